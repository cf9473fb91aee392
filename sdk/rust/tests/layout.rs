//! The bindings of src/sys.rs against include/sofaas/sofaas.h: a C program compiled from
//! the header prints each size, offset and constant, and each must equal Rust's. A field
//! renamed in the header fails the C program's build; one added, removed, moved or
//! retyped changes a size or an offset.
use std::collections::BTreeMap;
use std::mem::{size_of, MaybeUninit};
use std::path::PathBuf;
use std::process::Command;

use sofaas::sys::*;

// Rust 1.63 has no core::mem::offset_of!: the address of the field in an uninitialized value.
macro_rules! offset_of {
    ($type:ty, $field:ident) => {{
        let value = MaybeUninit::<$type>::uninit();
        let base = value.as_ptr();
        let field = unsafe { std::ptr::addr_of!((*base).$field) };
        field as usize - base as usize
    }};
}

const HOST_FIELDS: [&str; 4] = ["respond", "fail", "log", "remaining_ms"];
const CONTEXT_FIELDS: [&str; 11] = [
    "abi_version",
    "request_id",
    "function_name",
    "function_version",
    "memory_limit_mb",
    "host",
    "host_data",
    "caller_key_id",
    "caller_role",
    "caller_user_sub",
    "caller_schedule",
];

fn rust_layout() -> BTreeMap<String, u64> {
    let mut layout = BTreeMap::new();
    let mut put = |name: &str, value: usize| layout.insert(name.to_string(), value as u64);
    put("sizeof(sofaas_host)", size_of::<sofaas_host>());
    put("sofaas_host.respond", offset_of!(sofaas_host, respond));
    put("sofaas_host.fail", offset_of!(sofaas_host, fail));
    put("sofaas_host.log", offset_of!(sofaas_host, log));
    put("sofaas_host.remaining_ms", offset_of!(sofaas_host, remaining_ms));
    put("sizeof(sofaas_context)", size_of::<sofaas_context>());
    put("sofaas_context.abi_version", offset_of!(sofaas_context, abi_version));
    put("sofaas_context.request_id", offset_of!(sofaas_context, request_id));
    put("sofaas_context.function_name", offset_of!(sofaas_context, function_name));
    put("sofaas_context.function_version", offset_of!(sofaas_context, function_version));
    put("sofaas_context.memory_limit_mb", offset_of!(sofaas_context, memory_limit_mb));
    put("sofaas_context.host", offset_of!(sofaas_context, host));
    put("sofaas_context.host_data", offset_of!(sofaas_context, host_data));
    put("sofaas_context.caller_key_id", offset_of!(sofaas_context, caller_key_id));
    put("sofaas_context.caller_role", offset_of!(sofaas_context, caller_role));
    put("sofaas_context.caller_user_sub", offset_of!(sofaas_context, caller_user_sub));
    put("sofaas_context.caller_schedule", offset_of!(sofaas_context, caller_schedule));
    put("SOFAAS_ABI_VERSION", SOFAAS_ABI_VERSION as usize);
    put("SOFAAS_OK", SOFAAS_OK as usize);
    put("SOFAAS_ERROR", SOFAAS_ERROR as usize);
    layout
}

// The same list from C, compiled against the header.
fn c_program() -> String {
    let mut lines = vec![
        "#include <stddef.h>".to_string(),
        "#include <stdio.h>".to_string(),
        "#include <sofaas/sofaas.h>".to_string(),
        "int main(void) {".to_string(),
        "    printf(\"sizeof(sofaas_host) %zu\\n\", sizeof(sofaas_host));".to_string(),
        "    printf(\"sizeof(sofaas_context) %zu\\n\", sizeof(sofaas_context));".to_string(),
    ];
    for (type_name, fields) in [("sofaas_host", &HOST_FIELDS[..]), ("sofaas_context", &CONTEXT_FIELDS[..])] {
        for field in fields {
            lines.push(format!("    printf(\"{type_name}.{field} %zu\\n\", offsetof({type_name}, {field}));"));
        }
    }
    for constant in ["SOFAAS_ABI_VERSION", "SOFAAS_OK", "SOFAAS_ERROR"] {
        lines.push(format!("    printf(\"{constant} %lu\\n\", (unsigned long)({constant}));"));
    }
    lines.push("    return 0;\n}".to_string());
    lines.join("\n")
}

fn include_dir() -> PathBuf {
    match std::env::var_os("SOFAAS_INCLUDE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../include"),
    }
}

fn c_layout() -> BTreeMap<String, u64> {
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("layout");
    std::fs::create_dir_all(&scratch).unwrap();
    let source = scratch.join("layout.c");
    let program = scratch.join("layout");
    std::fs::write(&source, c_program()).unwrap();
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    let built = Command::new(&compiler)
        .arg("-std=c99")
        .arg("-I")
        .arg(include_dir())
        .arg(&source)
        .arg("-o")
        .arg(&program)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(built.status.success(), "the header's layout program does not build:\n{}", String::from_utf8_lossy(&built.stderr));
    let ran = Command::new(&program).output().unwrap();
    assert!(ran.status.success());
    String::from_utf8(ran.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (name, value) = line.rsplit_once(' ').unwrap();
            (name.to_string(), value.parse().unwrap())
        })
        .collect()
}

#[test]
fn bindings_match_the_c_header() {
    let c = c_layout();
    let rust = rust_layout();
    assert_eq!(c.len(), 20, "the C program printed {c:?}");
    for (name, c_value) in &c {
        assert_eq!(rust.get(name), Some(c_value), "{name}: C says {c_value}, Rust {:?}", rust.get(name));
    }
    assert_eq!(c, rust);
}
