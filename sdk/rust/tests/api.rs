//! The safe API through the exported ABI symbols, with a host that records what the
//! function told it.
use std::cell::RefCell;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_void};
use std::ptr;

use sofaas::sys::*;
use sofaas::{Caller, Error, InitContext, Request, Response};

#[derive(Default, Debug)]
struct Told {
    output: Option<Vec<u8>>,
    error: Option<(String, String)>,
    log: Vec<String>,
}

thread_local! {
    static TOLD: RefCell<Told> = RefCell::new(Told::default());
}

unsafe extern "C" fn respond(_: *const sofaas_context, data: *const c_void, len: usize) {
    let bytes = std::slice::from_raw_parts(data.cast::<u8>(), len).to_vec();
    TOLD.with(|told| told.borrow_mut().output = Some(bytes));
}

unsafe extern "C" fn fail(_: *const sofaas_context, error_type: *const c_char, message: *const c_char) {
    let error_type = CStr::from_ptr(error_type).to_str().unwrap().to_string();
    let message = CStr::from_ptr(message).to_str().unwrap().to_string();
    TOLD.with(|told| told.borrow_mut().error = Some((error_type, message)));
}

unsafe extern "C" fn log(_: *const sofaas_context, message: *const c_char, len: usize) {
    let line = std::str::from_utf8(std::slice::from_raw_parts(message.cast::<u8>(), len)).unwrap().to_string();
    TOLD.with(|told| told.borrow_mut().log.push(line));
}

unsafe extern "C" fn remaining_ms(_: *const sofaas_context) -> i64 {
    1234
}

static HOST: sofaas_host =
    sofaas_host { respond: Some(respond), fail: Some(fail), log: Some(log), remaining_ms: Some(remaining_ms) };

struct Context {
    _strings: Vec<CString>,
    context: sofaas_context,
}

// A context as a host of `abi_version` gives it; a version 1 host has no caller_* members
// (null here: reading one would crash).
fn context(abi_version: u32) -> Context {
    let strings: Vec<CString> =
        ["req-1", "rusty", "ASIAEXAMPLE", "web", "user-1", ""].iter().map(|s| CString::new(*s).unwrap()).collect();
    let caller = |index: usize| if abi_version >= 2 { strings[index].as_ptr() } else { ptr::null() };
    let context = sofaas_context {
        abi_version,
        request_id: strings[0].as_ptr(),
        function_name: strings[1].as_ptr(),
        function_version: 3,
        memory_limit_mb: 128,
        host: &HOST,
        host_data: ptr::null_mut(),
        caller_key_id: caller(2),
        caller_role: caller(3),
        caller_user_sub: caller(4),
        caller_schedule: caller(5),
    };
    Context { _strings: strings, context }
}

fn call_on(abi_version: u32, event: &[u8]) -> (i32, Told) {
    TOLD.with(|told| *told.borrow_mut() = Told::default());
    let ctx = context(abi_version);
    let status = unsafe { sofaas_handler(&ctx.context, event.as_ptr(), event.len()) };
    (status, TOLD.with(|told| std::mem::take(&mut *told.borrow_mut())))
}

fn call(event: &[u8]) -> (i32, Told) {
    call_on(SOFAAS_ABI_VERSION, event)
}

fn handle(request: &Request) -> Result<Response, Error> {
    match request.payload_str()? {
        "panic" => panic!("asked to panic"),
        "fail" => Err(Error::new("Custom", "it failed")),
        "whoami" => {
            let Caller { key_id, role, user_sub, schedule } = request.caller();
            Ok(format!("key={key_id} role={role} sub={user_sub} schedule={schedule}").into())
        }
        "number" => {
            let parsed: u32 = "x".parse()?;
            Ok(parsed.to_string().into())
        }
        name => {
            request.log(&format!("{} {}", request.request_id(), request.remaining_time().as_millis()));
            Ok(format!("{}@{}: {name}", request.function_name(), request.function_version()).into())
        }
    }
}

fn setup(context: &InitContext) -> Result<(), Error> {
    context.log(&format!("init {} {}", context.function_name(), context.memory_limit_mb()));
    if context.memory_limit_mb() < 256 {
        return Err(Error::message("needs 256 MB"));
    }
    Ok(())
}

sofaas::handler!(handle);
sofaas::init!(setup);

#[test]
fn exports_the_abi_version() {
    assert_eq!(sofaas_abi_version(), SOFAAS_ABI_VERSION);
}

#[test]
fn the_caller_is_who_the_host_says_and_nobody_on_a_version_1_host() {
    let (status, told) = call(b"whoami");
    assert_eq!(status, SOFAAS_OK);
    assert_eq!(told.output.as_deref(), Some(&b"key=ASIAEXAMPLE role=web sub=user-1 schedule="[..]));
    let (status, told) = call_on(1, b"whoami");
    assert_eq!(status, SOFAAS_OK);
    assert_eq!(told.output.as_deref(), Some(&b"key= role= sub= schedule="[..]));
}

#[test]
fn a_response_is_the_output() {
    let (status, told) = call(b"ada");
    assert_eq!(status, SOFAAS_OK);
    assert_eq!(told.output.as_deref(), Some(&b"rusty@3: ada"[..]));
    assert_eq!(told.error, None);
    assert_eq!(told.log, vec!["req-1 1234".to_string()]);
}

#[test]
fn an_error_is_a_function_error() {
    let (status, told) = call(b"fail");
    assert_eq!(status, SOFAAS_ERROR);
    assert_eq!(told.error, Some(("Custom".to_string(), "it failed".to_string())));
    assert_eq!(told.output, None);
}

#[test]
fn question_mark_types_the_error_by_its_rust_type() {
    let (status, told) = call(b"number");
    assert_eq!(status, SOFAAS_ERROR);
    let (error_type, message) = told.error.unwrap();
    assert_eq!(error_type, "core::num::error::ParseIntError");
    assert_eq!(message, "invalid digit found in string");

    let (status, told) = call(&[0xff, 0xfe]);
    assert_eq!(status, SOFAAS_ERROR);
    assert_eq!(told.error.unwrap().0, "InvalidInput");
}

#[test]
fn a_panic_is_a_function_error_not_a_crash() {
    let (status, told) = call(b"panic");
    assert_eq!(status, SOFAAS_ERROR);
    assert_eq!(told.error, Some(("Panic".to_string(), "asked to panic".to_string())));
}

#[test]
fn an_empty_event_may_be_a_null_pointer() {
    TOLD.with(|told| *told.borrow_mut() = Told::default());
    let ctx = context(SOFAAS_ABI_VERSION);
    let status = unsafe { sofaas_handler(&ctx.context, ptr::null(), 0) };
    assert_eq!(status, SOFAAS_OK);
    assert_eq!(TOLD.with(|told| told.borrow().output.clone()), Some(b"rusty@3: ".to_vec()));
}

#[test]
fn the_init_hook_sees_the_function_and_may_refuse() {
    TOLD.with(|told| *told.borrow_mut() = Told::default());
    let mut ctx = context(SOFAAS_ABI_VERSION);
    assert_eq!(unsafe { sofaas_init(&ctx.context) }, SOFAAS_ERROR);
    let told = TOLD.with(|told| std::mem::take(&mut *told.borrow_mut()));
    assert_eq!(told.error, Some(("FunctionError".to_string(), "needs 256 MB".to_string())));
    assert_eq!(told.log, vec!["init rusty 128".to_string()]);

    ctx.context.memory_limit_mb = 512;
    assert_eq!(unsafe { sofaas_init(&ctx.context) }, SOFAAS_OK);
}
