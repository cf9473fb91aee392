#!/usr/bin/env bash
# Mutation testing of the test suite (a development tool, not part of CI). Plants one small,
# realistic bug at a time in product code (the list: scripts/mutations.txt, its format is
# described at its top), rebuilds, runs the tests, and reports whether they noticed:
#
#   KILLED     the suite failed: it catches this bug
#   SURVIVED   the suite passed: a bug it would let through (add a test, or explain it
#              with a `note:` in mutations.txt when it cannot be caught)
#   STALE      the mutation's `old` text is not in its file exactly once: update the list
#   NOCOMPILE  the mutated source does not build: fix the mutation
#
# Usage (from anywhere in the repository):
#   scripts/mutate.sh [ID...]    every mutation, or only these ids; expect hours for all
#   scripts/mutate.sh --check    only check every `old` text occurs exactly once in the
#                                committed source (no build); exit 1 if one does not
#   scripts/mutate.sh --list     print the ids and descriptions
#
#   e.g. MUTATE_CTEST_ARGS="-L unit" scripts/mutate.sh billing-billed-ms-floor pool-exit0-is-ok
#
# Environment:
#   MUTATE_DIR         scratch directory, outside the repository (default: mutate-scratch
#                      beside it, /work/mutate-scratch for /work/main). It keeps a clone at
#                      MUTATE_REF (repo/), its RelWithDebInfo build (repo/build/), the logs
#                      (logs/ID.build.log, logs/ID.ctest.log, logs/baseline.*.log) and
#                      results.txt. Kept between runs, so the next run builds incrementally.
#   MUTATE_REF         the commit to mutate (default HEAD). Uncommitted changes are not used.
#   MUTATE_CTEST_ARGS  extra ctest arguments, after the defaults "-j2 --timeout 120" (a later
#                      option wins): "-L e2e", "-L unit -R Billing", "--repeat until-pass:2"
#   MUTATE_LIST        the mutation list (default scripts/mutations.txt of this working tree)
#   MUTATE_SKIP_BASELINE=1  build, but do not first run the unmutated suite (only when it
#                      has just passed with the same MUTATE_REF and MUTATE_CTEST_ARGS)
#
# Before mutating, the unmutated source is built and its suite run with the same ctest
# arguments: a failing baseline aborts the run (every mutation would look killed). A mutated
# file is restored (git checkout, which also gives it a new mtime, so the next incremental
# build recompiles it) after its tests, and on exit or Ctrl-C.
#
# Exit status: 0 when no mutation survived without a note, 1 when one did (or, with --check,
# when a mutation is stale), 2 on a usage, build or baseline error.
set -euo pipefail

ROOT=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
LIST=${MUTATE_LIST:-$ROOT/scripts/mutations.txt}
REF=${MUTATE_REF:-HEAD}
MUTATE_DIR=${MUTATE_DIR:-$(dirname "$ROOT")/mutate-scratch}
CTEST_DEFAULT_ARGS=(-j2 --timeout 120)
read -ra CTEST_EXTRA_ARGS <<<"${MUTATE_CTEST_ARGS:-}"

die() {
    echo "mutate.sh: $*" >&2
    exit 2
}

# ---- the list ------------------------------------------------------------------------

IDS=() FILES=() DESCS=() OLDS=() NEWS=() NOTES=() HAS_OLD=() HAS_NEW=()

trim() {
    local text=$1
    text=${text#"${text%%[![:space:]]*}"}
    text=${text%"${text##*[![:space:]]}"}
    printf '%s' "$text"
}

parse_list() {
    [[ -f $LIST ]] || die "no mutation list at $LIST"
    local line key value n=-1 lineno=0
    while IFS= read -r line || [[ -n $line ]]; do
        lineno=$((lineno + 1))
        line=${line%$'\r'}
        [[ $line == \#* || -z ${line//[[:space:]]/} ]] && continue
        [[ $line =~ ^([a-z]+):(.*)$ ]] || die "$LIST:$lineno: expected 'key: value'"
        key=${BASH_REMATCH[1]}
        value=${BASH_REMATCH[2]}
        if [[ $key == id ]]; then
            n=$((n + 1))
            IDS[n]=$(trim "$value") FILES[n]='' DESCS[n]='' OLDS[n]='' NEWS[n]='' NOTES[n]=''
            HAS_OLD[n]=0 HAS_NEW[n]=0
            continue
        fi
        ((n >= 0)) || die "$LIST:$lineno: '$key:' before the first 'id:'"
        case $key in
            file) FILES[n]=$(trim "$value") ;;
            desc) DESCS[n]=$(trim "$value") ;;
            note) NOTES[n]=$(trim "${NOTES[n]} $(trim "$value")") ;;
            old | new)
                value=${value# }  # one space after the colon; the rest is verbatim
                if [[ $key == old ]]; then
                    ((HAS_OLD[n])) && OLDS[n]+=$'\n'
                    OLDS[n]+=$value HAS_OLD[n]=1
                else
                    ((HAS_NEW[n])) && NEWS[n]+=$'\n'
                    NEWS[n]+=$value HAS_NEW[n]=1
                fi
                ;;
            *) die "$LIST:$lineno: unknown key '$key' (id, file, desc, old, new, note)" ;;
        esac
    done <"$LIST"
    ((n >= 0)) || die "$LIST holds no mutation"

    local i j
    for i in "${!IDS[@]}"; do
        local id=${IDS[i]}
        [[ $id =~ ^[A-Za-z0-9._-]+$ ]] || die "$LIST: bad id '$id'"
        [[ -n ${FILES[i]} && -n ${DESCS[i]} ]] || die "$LIST: $id needs a file: and a desc:"
        ((HAS_OLD[i] && HAS_NEW[i])) || die "$LIST: $id needs an old: and a new: (new: may be empty)"
        [[ -n ${OLDS[i]} ]] || die "$LIST: $id has an empty old:"
        [[ ${OLDS[i]} != "${NEWS[i]}" ]] || die "$LIST: $id: old and new are the same"
        for ((j = 0; j < i; j++)); do
            [[ ${IDS[j]} != "$id" ]] || die "$LIST: id $id appears twice"
        done
    done
}

# Times $MUT_OLD occurs in standard input (non-overlapping, byte for byte).
count_occurrences() {
    MUT_OLD=$1 perl -e '
        local $/; my $text = <STDIN> // ""; my $old = $ENV{MUT_OLD};
        my ($count, $at) = (0, 0);
        while (($at = index($text, $old, $at)) >= 0) { $count++; $at += length $old }
        print $count'
}

# Replaces the one occurrence of $1 in file $3 by $2.
replace_in_file() {
    MUT_OLD=$1 MUT_NEW=$2 perl -e '
        my $file = $ARGV[0];
        open(my $in, "<", $file) or die "$file: $!"; local $/; my $text = <$in> // ""; close $in;
        my $at = index($text, $ENV{MUT_OLD}); die "$file: old text not found\n" if $at < 0;
        substr($text, $at, length $ENV{MUT_OLD}) = $ENV{MUT_NEW};
        open(my $out, ">", $file) or die "$file: $!"; print $out $text; close $out or die "$file: $!"' "$3"
}

# ---- arguments -----------------------------------------------------------------------

MODE=run
WANTED=()
for arg in "$@"; do
    case $arg in
        --check) MODE=check ;;
        --list) MODE=list ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        -*) die "unknown option $arg (--check, --list, --help)" ;;
        *) WANTED+=("$arg") ;;
    esac
done

parse_list
SELECTED=()
if ((${#WANTED[@]} == 0)); then
    SELECTED=("${!IDS[@]}")
else
    for wanted in "${WANTED[@]}"; do
        found=''
        for i in "${!IDS[@]}"; do
            if [[ ${IDS[i]} == "$wanted" ]]; then found=$i; fi
        done
        [[ -n $found ]] || die "no mutation '$wanted' in $LIST (scripts/mutate.sh --list)"
        SELECTED+=("$found")
    done
fi

if [[ $MODE == list ]]; then
    for i in "${SELECTED[@]}"; do printf '%-40s %s\n' "${IDS[i]}" "${DESCS[i]}"; done
    exit 0
fi

COMMIT=$(git -C "$ROOT" rev-parse --verify --quiet "$REF^{commit}") || die "MUTATE_REF $REF is not a commit"

if [[ $MODE == check ]]; then
    bad=0
    for i in "${SELECTED[@]}"; do
        if ! source_text=$(git -C "$ROOT" show "$COMMIT:${FILES[i]}" 2>/dev/null); then
            printf '%-9s %-40s %s\n' STALE "${IDS[i]}" "no file ${FILES[i]}"
            bad=$((bad + 1))
            continue
        fi
        count=$(count_occurrences "${OLDS[i]}" <<<"$source_text")
        if [[ $count == 1 ]]; then
            printf '%-9s %-40s %s\n' OK "${IDS[i]}" "${FILES[i]}"
        else
            printf '%-9s %-40s %s\n' STALE "${IDS[i]}" "old text found $count times in ${FILES[i]}"
            bad=$((bad + 1))
        fi
    done
    echo "checked ${#SELECTED[@]} mutations against ${COMMIT:0:12}: $bad stale"
    ((bad == 0)) || exit 1
    exit 0
fi

# ---- the scratch copy and its baseline ---------------------------------------------------

mkdir -p "$MUTATE_DIR"
MUTATE_DIR=$(cd "$MUTATE_DIR" && pwd -P)
case $MUTATE_DIR/ in "$(cd "$ROOT" && pwd -P)"/*) die "MUTATE_DIR must be outside the repository" ;; esac
REPO=$MUTATE_DIR/repo
LOGS=$MUTATE_DIR/logs
RESULTS=$MUTATE_DIR/results.txt
mkdir -p "$LOGS"
exec 9>"$MUTATE_DIR/.lock"
flock -n 9 || die "another mutate.sh is using $MUTATE_DIR"

APPLIED=''  # the file (relative to $REPO) holding a mutation right now
restore() {
    if [[ -n $APPLIED ]]; then
        git -C "$REPO" checkout --quiet -- "$APPLIED"
        APPLIED=''
    fi
}
trap restore EXIT
trap 'exit 130' INT TERM

progress() { echo "[$(date +%H:%M:%S)] $*" >&2; }

if [[ ! -d $REPO/.git ]]; then
    progress "cloning $ROOT into $REPO"
    git clone --quiet --no-checkout "$ROOT" "$REPO"
fi
git -C "$REPO" fetch --quiet "$ROOT" "$COMMIT"
# Resets whatever an interrupted run left mutated; files that do not change keep their
# mtime, so the build below is incremental.
git -C "$REPO" checkout --quiet --force --detach "$COMMIT"
git -C "$REPO" clean -fdq --exclude=/build

cd "$REPO"
CTEST=(ctest --test-dir build --output-on-failure --no-tests=error "${CTEST_DEFAULT_ARGS[@]}" "${CTEST_EXTRA_ARGS[@]}")
if [[ ! -f build/CMakeCache.txt ]]; then
    progress "configuring $REPO/build"
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$LOGS/configure.log" 2>&1 ||
        die "cmake configure failed: $LOGS/configure.log"
fi
progress "building ${COMMIT:0:12} (log: $LOGS/baseline.build.log)"
cmake --build build -j2 >"$LOGS/baseline.build.log" 2>&1 ||
    die "the unmutated source does not build: $LOGS/baseline.build.log"
if [[ ${MUTATE_SKIP_BASELINE:-0} == 1 ]]; then
    progress "baseline suite skipped (MUTATE_SKIP_BASELINE=1)"
else
    progress "running the unmutated suite: ${CTEST[*]}"
    "${CTEST[@]}" >"$LOGS/baseline.ctest.log" 2>&1 ||
        die "the unmutated suite fails, so no mutation can be judged; fix it or narrow MUTATE_CTEST_ARGS: $LOGS/baseline.ctest.log"
fi

# ---- the mutations -------------------------------------------------------------------

{
    echo "# $(date -Is) commit $COMMIT"
    echo "# ${CTEST[*]}"
} >"$RESULTS"
killed=0 survived=0 stale=0 nocompile=0 unexplained=0
SURVIVORS=()
report() {  # STATUS index [detail for results.txt]
    printf '%-9s %-40s %s\n' "$1" "${IDS[$2]}" "${DESCS[$2]}"
    printf '%-9s %-40s %s\n' "$1" "${IDS[$2]}" "${3:-${DESCS[$2]}}" >>"$RESULTS"
}
# The tests ctest names after "The following tests FAILED:".
failed_tests() {
    local names
    names=$(sed -n '/The following tests FAILED:/,$s/^[[:space:]]*[0-9]* - \([^ ]*\).*/\1/p' "$1" | head -5 | paste -sd' ' -)
    echo "${names:-? (see the log)}"
}

total=${#SELECTED[@]}
done_count=0
for i in "${SELECTED[@]}"; do
    done_count=$((done_count + 1))
    id=${IDS[i]}
    file=${FILES[i]}
    if [[ ! -f $file ]]; then
        stale=$((stale + 1))
        report STALE "$i" "no file $file"
        continue
    fi
    count=$(count_occurrences "${OLDS[i]}" <"$file")
    if [[ $count != 1 ]]; then
        stale=$((stale + 1))
        report STALE "$i" "old text found $count times in $file"
        continue
    fi
    APPLIED=$file
    replace_in_file "${OLDS[i]}" "${NEWS[i]}" "$file"

    progress "[$done_count/$total] $id: building"
    if ! cmake --build build -j2 >"$LOGS/$id.build.log" 2>&1; then
        nocompile=$((nocompile + 1))
        report NOCOMPILE "$i" "build failed: $LOGS/$id.build.log"
        restore
        continue
    fi
    progress "[$done_count/$total] $id: testing"
    started=$SECONDS
    if "${CTEST[@]}" >"$LOGS/$id.ctest.log" 2>&1; then
        survived=$((survived + 1))
        SURVIVORS+=("$i")
        [[ -n ${NOTES[i]} ]] || unexplained=$((unexplained + 1))
        report SURVIVED "$i" "${DESCS[i]} ($((SECONDS - started)) s; $LOGS/$id.ctest.log)"
    else
        killed=$((killed + 1))
        report KILLED "$i" "by $(failed_tests "$LOGS/$id.ctest.log" || true) ($((SECONDS - started)) s)"
    fi
    restore
done

if ((killed + survived > 0)); then
    permille=$(((killed * 1000 + (killed + survived) / 2) / (killed + survived)))
    rate="$((permille / 10)).$((permille % 10))%"
else
    rate="n/a"
fi
summary="mutations: $total, killed: $killed, survived: $survived, stale: $stale, no-compile: $nocompile, kill rate: $rate"
echo
echo "$summary"
echo "$summary" >>"$RESULTS"
if ((survived > 0)); then
    echo "survivors (test logs in $LOGS):"
    for i in "${SURVIVORS[@]}"; do
        echo "  ${IDS[i]}: ${DESCS[i]}"
        if [[ -n ${NOTES[i]} ]]; then
            echo "    note: ${NOTES[i]}"
        else
            echo "    unexplained: add a test that catches it, or a note: in $(basename "$LIST")"
        fi
    done
fi
((unexplained == 0)) || exit 1
exit 0
