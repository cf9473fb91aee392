// The sofaas CLI without a daemon: argument parsing, settings resolution, formatting.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/completion.h"
#include "cli/exit_code.h"
#include "cli/format.h"
#include "cli/http_client.h"
#include "support/temp_dir.h"
#include "support/unused_port.h"

namespace sofaas::cli {
namespace {

using nlohmann::json;

CommandLine parse(std::vector<std::string> args) { return parse_command_line(args); }

TEST(CliArgs, ParsesDeployWithRepeatableFlags) {
    auto line = parse({"deploy", "api", "api.so", "--route", "GET /items/{id}", "--route=POST /items", "--memory",
                       "256", "--env", "A=1", "--env", "B=2"});
    EXPECT_EQ(line.command, "deploy");
    EXPECT_EQ(line.arguments, (std::vector<std::string>{"api", "api.so"}));
    EXPECT_EQ(line.values("route"), (std::vector<std::string>{"GET /items/{id}", "POST /items"}));
    EXPECT_EQ(line.value("memory"), "256");
    EXPECT_EQ(line.values("env").size(), 2u);
}

TEST(CliArgs, GlobalFlagsGoBeforeOrAfterTheCommand) {
    auto before = parse({"--endpoint", "http://h:1", "--token=t", "list"});
    EXPECT_EQ(before.endpoint, "http://h:1");
    EXPECT_EQ(before.token, "t");
    auto after = parse({"list", "--endpoint=http://h:2"});
    EXPECT_EQ(after.command, "list");
    EXPECT_EQ(after.endpoint, "http://h:2");
}

TEST(CliArgs, HelpNeedsNoArguments) {
    EXPECT_TRUE(parse({"--help"}).help);
    auto line = parse({"deploy", "--help"});
    EXPECT_TRUE(line.help);
    EXPECT_EQ(line.command, "deploy");
}

TEST(CliArgs, VersionNeedsNoCommandAndTakesNoValue) {
    auto line = parse({"--version"});
    EXPECT_TRUE(line.version);
    EXPECT_EQ(line.command, "");
    EXPECT_FALSE(parse({"list"}).version);
    EXPECT_THROW(parse({"--version=1"}), UsageError);
    // invoke's own --version N (a function version) is not the global switch.
    auto invoke = parse({"invoke", "hello", "--version", "3"});
    EXPECT_FALSE(invoke.version);
    EXPECT_EQ(invoke.value("version"), "3");
}

TEST(CliArgs, RejectsUsageMistakes) {
    EXPECT_THROW(parse({}), UsageError);
    EXPECT_THROW(parse({"frobnicate"}), UsageError);
    EXPECT_THROW(parse({"deploy", "hello"}), UsageError);                  // missing FILE.so
    EXPECT_THROW(parse({"info", "a", "b"}), UsageError);                   // extra argument
    EXPECT_THROW(parse({"list", "--memory", "5"}), UsageError);            // flag of another command
    EXPECT_THROW(parse({"invoke", "hello", "--data"}), UsageError);        // missing value
    EXPECT_THROW(parse({"invoke", "hello", "-d", "x"}), UsageError);       // short options do not exist
    EXPECT_THROW(parse({"deploy", "a", "a.so", "--memory", "1", "--memory", "2"}), UsageError);
    EXPECT_THROW(parse({"billing", "--json=yes"}), UsageError);            // a switch takes no value
}

TEST(CliArgs, UnknownFlagErrorNamesTheFlag) {
    try {
        parse({"invoke", "hello", "--bogus"});
        FAIL() << "no error";
    } catch (const UsageError& e) {
        EXPECT_NE(std::string(e.what()).find("--bogus"), std::string::npos) << e.what();
    }
}

TEST(CliArgs, DoubleDashEndsOptions) {
    auto line = parse({"info", "--", "--odd"});
    EXPECT_EQ(line.arguments, (std::vector<std::string>{"--odd"}));
}

TEST(CliArgs, UsageListsEveryCommand) {
    std::string text = usage();
    for (const auto& spec : command_specs()) {
        EXPECT_NE(text.find("  " + spec.name), std::string::npos) << spec.name;
        EXPECT_NE(command_usage(spec).find("sofaas " + spec.name), std::string::npos);
    }
}

TEST(CliDeploy, TargetCarriesSettingsAsEncodedQuery) {
    auto line = parse({"deploy", "api", "api.so", "--route", "GET /items/{id}", "--memory", "256", "--env", "K=a b",
                       "--min-warm", "1", "--auth", "key", "--expose-errors"});
    EXPECT_EQ(deploy_target(line),
              "/v1/functions/api?memory=256&min_warm=1&env=K%3Da%20b&route=GET%20%2Fitems%2F%7Bid%7D&auth=key"
              "&expose_errors=true");
    EXPECT_EQ(deploy_target(parse({"deploy", "hello", "h.so"})), "/v1/functions/hello");
    EXPECT_EQ(deploy_target(parse({"deploy", "big", "b.so", "--ephemeral-storage", "10240"})),
              "/v1/functions/big?ephemeral_storage=10240");
}

TEST(CliDeploy, RejectsMalformedSettingsBeforeSending) {
    EXPECT_THROW(deploy_target(parse({"deploy", "a", "a.so", "--memory", "lots"})), UsageError);
    EXPECT_THROW(deploy_target(parse({"deploy", "a", "a.so", "--timeout", "-1"})), UsageError);
    EXPECT_THROW(deploy_target(parse({"deploy", "a", "a.so", "--env", "NOVALUE"})), UsageError);
    EXPECT_THROW(deploy_target(parse({"deploy", "a", "a.so", "--auth", "maybe"})), UsageError);
}

TEST(CliConfig, SendsOnlyTheSettingsGivenAndMayClearTheEnvironment) {
    using Params = std::vector<std::pair<std::string, std::string>>;
    auto line = parse({"config", "api", "--memory", "256", "--env", ""});
    EXPECT_EQ(line.command, "config");
    EXPECT_EQ(settings_params(line, true), (Params{{"memory", "256"}, {"env", ""}}));
    EXPECT_THROW(settings_params(line, false), UsageError);  // a deploy has nothing to clear
}

TEST(CliArgs, AliasCommandsTakeTheirArguments) {
    auto set = parse({"alias", "set", "api", "live", "3", "--weight", "4=0.1", "--description", "prod"});
    EXPECT_EQ(set.command, "alias set");
    EXPECT_EQ(set.arguments, (std::vector<std::string>{"api", "live", "3"}));
    EXPECT_EQ(set.value("weight"), "4=0.1");
    EXPECT_THROW(parse({"alias", "set", "api", "live"}), UsageError);
    EXPECT_EQ(parse({"alias", "list", "api", "--json"}).command, "alias list");
    EXPECT_EQ(parse({"alias", "delete", "api", "live"}).arguments.size(), 2u);
    EXPECT_EQ(parse({"invoke", "api", "--qualifier", "live"}).value("qualifier"), "live");
}

TEST(CliArgs, RolesCreateTakesRepeatableGrantsAndPools) {
    auto create = parse({"roles", "create", "web", "--invoke", "orders", "--invoke", "reports:prod", "--trust-pool",
                         "customers", "--max-session", "900"});
    EXPECT_EQ(create.command, "roles create");
    EXPECT_EQ(create.values("invoke"), (std::vector<std::string>{"orders", "reports:prod"}));
    EXPECT_EQ(create.values("trust-pool"), (std::vector<std::string>{"customers"}));
    EXPECT_EQ(create.value("max-session"), "900");
    EXPECT_EQ(parse({"roles", "revoke-sessions", "web"}).command, "roles revoke-sessions");
    EXPECT_THROW(parse({"roles", "show"}), UsageError);
}

TEST(CliFormat, RolesShowTheirGrantsPoolsAndLiveSessions) {
    const json role = {{"name", "web"},           {"arn", "arn:aws:iam::000000000000:role/web"},
                       {"invoke", {"orders", "reports:prod"}}, {"max_session_s", 3600},
                       {"trusted_pools", {"customers"}},       {"created", "2026-12-06T14:00:00Z"},
                       {"sessions", {{{"access_key_id", "ASIAEXAMPLE"}, {"user_sub", "u-1"}, {"session_name", "web"},
                                      {"expires", "2026-12-06T15:00:00Z"}}}}};
    EXPECT_EQ(format_role_list({{"roles", {role}}}),
              "NAME  INVOKE                MAX_SESSION  TRUSTED_POOLS\n"
              "web   orders, reports:prod  3600 s       customers\n");
    const std::string shown = format_role(role);
    EXPECT_NE(shown.find("invoke:          orders, reports:prod\n"), std::string::npos) << shown;
    EXPECT_NE(shown.find("live sessions: 1\n"), std::string::npos) << shown;
    EXPECT_NE(shown.find("ASIAEXAMPLE    u-1       web           2026-12-06T15:00:00Z"), std::string::npos) << shown;
}

TEST(CliFormat, AliasesShowTheirWeights) {
    const json alias = {{"name", "live"}, {"function", "api"}, {"version", 3}, {"weights", {{"4", 0.1}}},
                        {"description", "prod"}};
    EXPECT_EQ(format_alias(alias), "api:live -> version 3 (weights 4=0.1)\n");
    EXPECT_EQ(format_alias_list({{"aliases", {alias}}}),
              "ALIAS  VERSION  WEIGHTS  DESCRIPTION\nlive   3        4=0.1    prod\n");
}

TEST(CliSettings, FlagBeatsEnvironmentBeatsTokenFile) {
    testing::TempDir dir;
    std::ofstream(dir / "admin.token") << "from-file\n";
    auto plain = parse({"list"});
    auto settings = resolve_client_settings(plain, nullptr, nullptr, dir / "admin.token");
    EXPECT_EQ(settings.endpoint, default_endpoint);
    EXPECT_EQ(settings.token, "from-file");
    settings = resolve_client_settings(plain, "http://e:1", "from-env", dir / "admin.token");
    EXPECT_EQ(settings.endpoint, "http://e:1");
    EXPECT_EQ(settings.token, "from-env");
    settings = resolve_client_settings(parse({"list", "--token", "flag", "--endpoint", "http://f:2"}), "http://e:1",
                                       "from-env", dir / "admin.token");
    EXPECT_EQ(settings.endpoint, "http://f:2");
    EXPECT_EQ(settings.token, "flag");
    EXPECT_EQ(settings.token_source, "--token");
}

TEST(CliSettings, NoTokenNamesWhereItLooked) {
    testing::TempDir dir;
    try {
        resolve_client_settings(parse({"list"}), nullptr, nullptr, dir / "missing");
        FAIL() << "no error";
    } catch (const CommandError& e) {
        EXPECT_EQ(e.exit_code(), ExitCode::unauthorized);
        EXPECT_EQ(std::string(e.what()), "no token: set SOFAAS_TOKEN or --token; looked in " + (dir / "missing").string());
    }
    std::ofstream(dir / "empty.token") << "\n";
    EXPECT_THROW(resolve_client_settings(parse({"list"}), nullptr, nullptr, dir / "empty.token"), CommandError);
    EXPECT_THROW(resolve_client_settings(parse({"list", "--token", ""}), nullptr, "from-env", dir / "missing"),
                 CommandError);
    // An empty SOFAAS_TOKEN is no token: the file is read.
    std::ofstream(dir / "admin.token") << "from-file";
    auto settings = resolve_client_settings(parse({"list"}), nullptr, "", dir / "admin.token");
    EXPECT_EQ(settings.token, "from-file");
    EXPECT_EQ(settings.token_source, (dir / "admin.token").string());
}

TEST(CliArgs, OutputIsGlobalAndJsonIsItsAlias) {
    EXPECT_EQ(parse({"list"}).output, OutputFormat::text);
    EXPECT_EQ(parse({"--output", "json", "list"}).output, OutputFormat::json);
    EXPECT_EQ(parse({"info", "hello", "--output=json"}).output, OutputFormat::json);
    EXPECT_EQ(parse({"keys", "list", "--json"}).output, OutputFormat::json);
    EXPECT_EQ(parse({"billing", "--output", "csv"}).output, OutputFormat::csv);
    EXPECT_EQ(parse({"billing", "--output", "json", "--output", "text"}).output, OutputFormat::text);
    EXPECT_THROW(parse({"list", "--output", "csv"}), UsageError);  // csv is billing's only
    EXPECT_THROW(parse({"list", "--output", "xml"}), UsageError);
    EXPECT_THROW(parse({"billing", "--json", "--output", "csv"}), UsageError);
    EXPECT_THROW(parse({"list", "--json"}), UsageError);  // list never had --json: --output json
}

TEST(CliArgs, AGroupWithoutItsActionSaysWhichActionsThereAre) {
    try {
        parse({"alias"});
        FAIL() << "no error";
    } catch (const UsageError& e) {
        EXPECT_EQ(std::string(e.what()), "'alias' needs an action: set, list or delete (see sofaas alias --help)");
    }
    EXPECT_THROW(parse({"keys", "rotate", "ci"}), UsageError);
    EXPECT_THROW(parse({"keys", "--output", "json", "rotate"}), UsageError);
    auto late = parse({"alias", "--output", "json", "set", "hello", "live", "1"});
    EXPECT_EQ(late.command, "alias set");
    EXPECT_EQ(late.arguments, (std::vector<std::string>{"hello", "live", "1"}));
    EXPECT_EQ(late.output, OutputFormat::json);
    EXPECT_THROW(parse({"--output", "json", "completion", "bash"}), UsageError);
    auto help = parse({"schedule", "--help"});
    EXPECT_TRUE(help.help);
    EXPECT_EQ(help.command, "schedule");
    const std::string text = help_text("schedule");
    EXPECT_EQ(text.rfind("sofaas schedule ACTION", 0), 0u) << text;
    for (const char* action : {"add", "list", "pause", "resume", "delete"})
        EXPECT_NE(text.find(std::string("\n  ") + action + " "), std::string::npos) << action << "\n" << text;
    EXPECT_EQ(help_text("deploy").rfind("sofaas deploy NAME FILE.so", 0), 0u);
    EXPECT_EQ(help_text(""), usage());
}

TEST(CliArgs, UsersPoolCommandsAreAGroupWithinAGroup) {
    auto create = parse({"users", "pool", "create", "shop", "--min-password-length", "12", "--no-self-sign-up"});
    EXPECT_EQ(create.command, "users pool create");
    EXPECT_EQ(create.arguments, (std::vector<std::string>{"shop"}));
    EXPECT_TRUE(create.has("no-self-sign-up"));
    auto late = parse({"users", "--output", "json", "pool", "rotate-key", "shop"});
    EXPECT_EQ(late.command, "users pool rotate-key");
    EXPECT_EQ(late.output, OutputFormat::json);
    auto add = parse({"users", "add", "alice", "--pool", "shop", "--scope", "a", "--scope", "b"});
    EXPECT_EQ(add.command, "users add");
    EXPECT_EQ(add.values("scope"), (std::vector<std::string>{"a", "b"}));
    EXPECT_THROW(parse({"users", "pool", "rename", "shop"}), UsageError);
    EXPECT_THROW(parse({"users", "add", "alice", "--password", "in-the-process-list"}), UsageError);
    const std::string text = help_text("users pool");
    for (const char* action : {"create", "list", "delete", "rotate-key"})
        EXPECT_NE(text.find(std::string("\n  ") + action + " "), std::string::npos) << action << "\n" << text;
}

TEST(CliDeploy, JwtAuthNamesItsPoolAndScope) {
    using Params = std::vector<std::pair<std::string, std::string>>;
    auto line = parse({"deploy", "api", "api.so", "--auth", "jwt", "--jwt-pool", "shop", "--jwt-scope", "items.read"});
    EXPECT_EQ(settings_params(line, false), (Params{{"auth", "jwt"}, {"jwt_pool", "shop"}, {"jwt_scope", "items.read"}}));
}

TEST(CliArgs, EveryCommandHasHelpWithItsOptionsAndTheGlobalOnes) {
    for (const auto& spec : command_specs()) {
        std::vector<std::string> args;  // "alias set" -> {"alias", "set", "--help"}
        std::istringstream words(spec.name);
        for (std::string word; words >> word;) args.push_back(word);
        args.push_back("--help");
        const auto line = parse(args);
        EXPECT_TRUE(line.help) << spec.name;
        const std::string text = help_text(line.command);
        EXPECT_EQ(text.rfind("sofaas " + spec.name, 0), 0u) << text;
        for (const auto& flag : spec.flags) EXPECT_NE(text.find("--" + flag.name + " "), std::string::npos) << flag.name;
        EXPECT_NE(text.find("  --output text|json|csv"), std::string::npos) << text;
    }
}

TEST(CliArgs, InvokeHelpShowsItsOwnVersionOptionOnly) {
    const std::string text = help_text("invoke");
    EXPECT_NE(text.find("--version N"), std::string::npos) << text;
    EXPECT_EQ(text.find("the commit it was built from"), std::string::npos) << text;
    EXPECT_NE(help_text("list").find("the commit it was built from"), std::string::npos);
}

TEST(CliCompletion, BashScriptCoversTheCommandTable) {
    const std::string script = completion_script("bash");
    EXPECT_NE(script.find("complete -o default -F _sofaas sofaas"), std::string::npos);
    EXPECT_NE(script.find("[\"alias\"]=\"set list delete\""), std::string::npos);
    EXPECT_NE(script.find("[\"deploy\"]=\"function file\""), std::string::npos);
    EXPECT_NE(script.find("[\"keys delete\"]=\"-\""), std::string::npos);  // a key's name, not a function's
    EXPECT_NE(script.find("[\"users\"]=\"pool add list disable enable delete\""), std::string::npos);
    EXPECT_NE(script.find("[\"users pool\"]=\"create list delete rotate-key\""), std::string::npos);
    EXPECT_NE(script.find("--memory= "), std::string::npos);                 // takes a value
    EXPECT_NE(script.find("--verbose"), std::string::npos);
    // Option values from the value names of the table.
    EXPECT_NE(script.find("[\"--scope\"]=\"admin invoke"), std::string::npos);
    EXPECT_NE(script.find("[\"--output\"]=\"text json csv jsonl\""), std::string::npos);
    EXPECT_NE(script.find("[\"--data-file\"]=\":file\""), std::string::npos);
    EXPECT_NE(script.find("[\"--on-failure\"]=\":function\""), std::string::npos);
    EXPECT_EQ(script.find("[\"--qualifier\"]"), std::string::npos);  // ALIAS|N: anything
    EXPECT_THROW(completion_script("fish"), UsageError);
}

TEST(CliArgs, UsageListsTheExitCodes) {
    const std::string text = usage();
    for (const char* code : {"  2  usage", "  3  not found", "  4  no token", "  5  sofaasd unreachable",
                             "  6  invoke: the function failed", "  7  invoke: the function timed out",
                             "  8  throttled"}) {
        EXPECT_NE(text.find(code), std::string::npos) << code;
    }
}

HttpResponse answer(int status, HttpHeaders headers = {}, std::string body = {}) {
    return HttpResponse{status, std::move(headers), std::move(body)};
}

TEST(CliExitCodes, EachKindOfAnswerHasItsOwnCode) {
    EXPECT_EQ(exit_code_for(answer(200)), ExitCode::ok);
    EXPECT_EQ(exit_code_for(answer(202)), ExitCode::ok);
    EXPECT_EQ(exit_code_for(answer(400)), ExitCode::failure);
    EXPECT_EQ(exit_code_for(answer(409)), ExitCode::failure);
    EXPECT_EQ(exit_code_for(answer(413)), ExitCode::failure);
    EXPECT_EQ(exit_code_for(answer(500)), ExitCode::failure);
    EXPECT_EQ(exit_code_for(answer(401)), ExitCode::unauthorized);
    EXPECT_EQ(exit_code_for(answer(403)), ExitCode::unauthorized);
    EXPECT_EQ(exit_code_for(answer(404)), ExitCode::not_found);
    EXPECT_EQ(exit_code_for(answer(429)), ExitCode::throttled);
    EXPECT_EQ(exit_code_for(answer(502)), ExitCode::function_error);
    EXPECT_EQ(exit_code_for(answer(503)), ExitCode::unavailable);
    EXPECT_EQ(exit_code_for(answer(504)), ExitCode::timeout);
    // Distinct values, as documented.
    EXPECT_EQ(static_cast<int>(ExitCode::usage), 2);
    EXPECT_EQ(static_cast<int>(ExitCode::not_found), 3);
    EXPECT_EQ(static_cast<int>(ExitCode::unauthorized), 4);
    EXPECT_EQ(static_cast<int>(ExitCode::unreachable), 5);
    EXPECT_EQ(static_cast<int>(ExitCode::function_error), 6);
    EXPECT_EQ(static_cast<int>(ExitCode::timeout), 7);
    EXPECT_EQ(static_cast<int>(ExitCode::throttled), 8);
    EXPECT_EQ(static_cast<int>(ExitCode::unavailable), 9);
}

TEST(CliFormat, BillingCsvHasAHeaderAndOneRowPerFunction) {
    json row = {{"function", "hello"}, {"invocations", 2}, {"errors", 0}, {"timeouts", 0}, {"cold_starts", 1},
                {"billed_ms", 3}, {"gb_seconds", "0.000375"}, {"cost_usd", "0.5"}};
    EXPECT_EQ(format_billing_summary_csv({{"functions", {row}}, {"total", row}}),
              "function,invocations,errors,timeouts,cold_starts,billed_ms,gb_seconds,cost_usd\n"
              "hello,2,0,0,1,3,0.000375,0.5\n");
    json record = {{"request_id", "r,1"}, {"function", "f"}, {"version", 1}, {"trigger", "invoke"},
                   {"start", "2026-12-06T10:00:00.000000Z"}, {"duration_ms", 1.5}, {"billed_ms", 2},
                   {"memory_mb", 128}, {"max_memory_used_mb", 3}, {"status", "ok"}, {"cost_usd", "0.25"}};
    EXPECT_EQ(format_billing_records_csv({{"records", {record}}}),
              "request_id,function,version,trigger,attempt,start,duration_ms,init_ms,billed_ms,memory_mb,"
              "max_memory_used_mb,status,cost_usd\n"
              "\"r,1\",f,1,invoke,,2026-12-06T10:00:00.000000Z,1.5,,2,128,3,ok,0.25\n");
}

TEST(CliFormat, InvocationFactsComeFromTheHeaders) {
    auto ran = answer(200, {{"X-Sofaas-Request-Id", "rid"}, {"X-Sofaas-Status", "ok"}, {"X-Sofaas-Version", "3"},
                            {"X-Sofaas-Duration-Ms", "1.25"}, {"X-Sofaas-Billed-Ms", "2"},
                            {"X-Sofaas-Init-Ms", "10.50"}},
                      "out");
    EXPECT_EQ(format_invocation_facts(ran),
              "request id:      rid\nstatus:          ok\nversion:         3\nduration:        1.25 ms\n"
              "billed:          2 ms\ninit:            10.50 ms\n");
    const json record = json::parse(invocation_json(ran).dump());
    EXPECT_EQ(invocation_json(ran).begin().key(), "request_id");
    EXPECT_EQ(record, json({{"request_id", "rid"}, {"status", "ok"}, {"version", 3}, {"duration_ms", 1.25},
                            {"billed_ms", 2}, {"init_ms", 10.5}, {"output", "out"}, {"error_type", nullptr},
                            {"error_message", nullptr}}));

    auto failed = answer(504, {{"X-Sofaas-Request-Id", "r2"}, {"X-Sofaas-Status", "timeout"}},
                         R"({"errorType":"Sandbox.Timedout","errorMessage":"Task timed out after 1.00 seconds"})");
    const json failure = json::parse(invocation_json(failed).dump());
    EXPECT_EQ(failure["status"], "timeout");
    EXPECT_EQ(failure["output"], nullptr);
    EXPECT_EQ(failure["init_ms"], nullptr);
    EXPECT_EQ(failure["error_type"], "Sandbox.Timedout");
    EXPECT_EQ(failure["error_message"], "Task timed out after 1.00 seconds");
    EXPECT_EQ(format_invocation_facts(answer(202, {{"X-Sofaas-Request-Id", "q"}}, R"({"status":"queued"})")),
              "request id:      q\nstatus:          queued\n");
    // No X-Sofaas-Status (the function did not run): the HTTP status instead.
    EXPECT_EQ(format_invocation_facts(answer(404, {{"X-Sofaas-Request-Id", "r3"}})),
              "request id:      r3\nstatus:          HTTP 404\n");
}

TEST(CliFormat, TableAlignsColumns) {
    EXPECT_EQ(format_table({"A", "BB"}, {{"long", "x"}, {"s", "yy"}}), "A     BB\nlong  x\ns     yy\n");
}

TEST(CliFormat, FunctionListShowsRoutesAuthAndErrors) {
    json list = {{"functions",
                  {{{"name", "api"}, {"version", 3}, {"memory_mb", 256}, {"timeout_s", 5}, {"auth", "key"},
                    {"routes", {{{"method", "GET"}, {"path", "/items/{id}"}}, {{"method", "POST"}, {"path", "/items"}}}},
                    {"expose_errors", true}},
                   {{"name", "hello"}, {"version", 1}, {"memory_mb", 128}, {"timeout_s", 3}, {"auth", "none"},
                    {"routes", json::array()}, {"expose_errors", false}}}}};
    EXPECT_EQ(format_function_list(list),
              "NAME   VERSION  MEMORY  TIMEOUT  ROUTES                        AUTH  ERRORS\n"
              "api    3        256 MB  5 s      GET /items/{id}, POST /items  key   exposed\n"
              "hello  1        128 MB  3 s      -                             none  generic\n");
}

TEST(CliFormat, FunctionInfoShowsVersionsAndWorkers) {
    json info = {{"function",
                  {{"name", "hello"},
                   {"version", 2},
                   {"memory_mb", 128},
                   {"env", {{"A", "1"}}},
                   {"expose_errors", true}}},
                 {"versions", {1, 2}},
                 {"workers", {{"idle", 1}, {"busy", 0}}}};
    std::string text = format_function_info(info);
    EXPECT_NE(text.find("versions:        1, 2\n"), std::string::npos) << text;
    EXPECT_NE(text.find("workers:         1 idle, 0 busy\n"), std::string::npos) << text;
    EXPECT_NE(text.find("env:             A=1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("errors:          exposed\n"), std::string::npos) << text;
}

TEST(CliFormat, FunctionInfoShowsTheEphemeralStorage) {
    json info = {{"function", {{"name", "big"}, {"version", 1}, {"ephemeral_storage_mb", 10240}}}};
    const std::string text = format_function_info(info);
    EXPECT_NE(text.find("ephemeral storage: 10240 MB\n"), std::string::npos) << text;
}

TEST(CliFormat, DeployedPrintsNameAndVersion) {
    EXPECT_EQ(format_deployed({{"name", "hello"}, {"version", 1}}), "hello version 1\n");
}

TEST(CliFormat, LogLinesFollowLambda) {
    EXPECT_EQ(format_log_line({{"time", "T"}, {"request_id", "R"}, {"stream", "stdout"}, {"message", "hi"}}),
              "T R stdout hi\n");
    EXPECT_EQ(format_log_line({{"time", "T"}, {"request_id", "R"}, {"stream", "platform"},
                               {"message", "START RequestId: R Version: 1"}}),
              "T START RequestId: R Version: 1\n");
}

TEST(CliFormat, BillingSummaryEndsWithTotal) {
    json row = {{"function", "hello"}, {"invocations", 2}, {"errors", 0}, {"timeouts", 0}, {"cold_starts", 1},
                {"billed_ms", 3}, {"gb_seconds", "0.000375"}, {"cost_usd", "0.00000040625"}};
    json total = row;
    total["function"] = "";
    std::string text = format_billing_summary({{"functions", {row}}, {"total", total}});
    EXPECT_EQ(text.rfind("FUNCTION", 0), 0u) << text;
    EXPECT_NE(text.find("hello "), std::string::npos);
    EXPECT_NE(text.find("\nTOTAL "), std::string::npos);
    EXPECT_NE(text.find("0.000375"), std::string::npos);
    EXPECT_NE(text.find("0.00000040625"), std::string::npos);
}

TEST(CliFormat, BillingRecordsOnePerLine) {
    json billing = {{"records", {{{"request_id", "a"}}, {{"request_id", "b"}}}}};
    EXPECT_EQ(format_billing_records(billing), "{\"request_id\":\"a\"}\n{\"request_id\":\"b\"}\n");
}

TEST(CliFormat, ServerErrorsShowTypeAndMessage) {
    EXPECT_EQ(format_server_error(404, R"({"errorType":"ResourceNotFoundException","errorMessage":"no x"})"),
              "ResourceNotFoundException: no x");
    EXPECT_EQ(format_server_error(500, "boom\n"), "HTTP 500: boom");
}

TEST(HttpClient, RejectsMalformedEndpoints) {
    for (const char* endpoint : {"127.0.0.1:8080", "https://h:1", "http://", "http://h:0", "http://h:99999",
                                 "http://h:x", "http://h:1/path"}) {
        EXPECT_THROW(HttpClient(endpoint, ""), HttpClientError) << endpoint;
    }
    EXPECT_NO_THROW(HttpClient("http://127.0.0.1:8080/", ""));
    EXPECT_NO_THROW(HttpClient("http://localhost", ""));
}

TEST(HttpClient, UnreachableServerIsAnError) {
    testing::UnusedPort nowhere;
    HttpClient client("http://127.0.0.1:" + std::to_string(nowhere.port()), "");
    EXPECT_THROW(client.request("GET", "/healthz"), HttpClientError);
}

TEST(HttpClient, UrlEncodeKeepsOnlyUnreserved) {
    EXPECT_EQ(url_encode("a-Z_0.~"), "a-Z_0.~");
    EXPECT_EQ(url_encode("GET /x/{id}?&="), "GET%20%2Fx%2F%7Bid%7D%3F%26%3D");
    EXPECT_EQ(url_encode(std::string("\xff\x00", 2)), "%FF%00");
}

}  // namespace
}  // namespace sofaas::cli
