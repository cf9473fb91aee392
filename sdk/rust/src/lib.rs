//! Write sofaas functions in Rust.
//!
//! A function is a `cdylib` whose handler takes a [`Request`] and returns a
//! [`Response`] or an [`Error`]; [`handler!`] exports it under the C ABI of
//! `include/sofaas/sofaas.h`, and [`init!`] exports an optional init hook that runs once
//! per cold start:
//!
//! ```no_run
//! fn handle(request: &sofaas::Request) -> Result<sofaas::Response, sofaas::Error> {
//!     let name = request.payload_str()?;
//!     request.log("greeting someone");
//!     Ok(format!("Hello, {name}!").into())
//! }
//! sofaas::handler!(handle);
//! ```
//!
//! A panic in the handler or the init hook is caught (keep the default `panic =
//! "unwind"`) and becomes a function error of type `Panic` with the panic's message; the
//! execution environment lives on. Everything a function writes to stdout or stderr lands
//! in its log, as [`Request::log`] does.

pub mod sys;

use std::ffi::{CStr, CString};
use std::fmt;
use std::os::raw::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

/// Who asked for an invocation, as sofaasd authenticated them (Lambda's
/// `context.identity`). Each part is `""` when it does not apply, and all are on a host
/// older than ABI version 2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caller<'a> {
    /// The API key, or a role session's temporary key (`ASIA...`).
    pub key_id: &'a str,
    /// A session's role.
    pub role: &'a str,
    /// A session's signed-in user: the ID token's `sub`.
    pub user_sub: &'a str,
    /// A schedule's firing: the id of the schedule that fired.
    pub schedule: &'a str,
}

/// One invocation: the event's bytes and what the host says about it. Valid only while
/// the handler runs.
pub struct Request<'a> {
    ctx: &'a sys::sofaas_context,
    payload: &'a [u8],
}

impl<'a> Request<'a> {
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The payload as text; an [`Error`] of type `InvalidInput` when it is not UTF-8.
    pub fn payload_str(&self) -> Result<&'a str, Error> {
        std::str::from_utf8(self.payload).map_err(|e| Error::new("InvalidInput", format!("the event is not UTF-8: {e}")))
    }

    pub fn request_id(&self) -> &'a str {
        unsafe { text(self.ctx.request_id) }
    }

    pub fn function_name(&self) -> &'a str {
        unsafe { text(self.ctx.function_name) }
    }

    pub fn function_version(&self) -> u32 {
        self.ctx.function_version
    }

    pub fn memory_limit_mb(&self) -> u32 {
        self.ctx.memory_limit_mb
    }

    /// Time left before the deadline (Lambda's `getRemainingTimeInMillis`).
    pub fn remaining_time(&self) -> Duration {
        let host = unsafe { &*self.ctx.host };
        let remaining = host.remaining_ms.map_or(0, |remaining_ms| unsafe { remaining_ms(self.ctx) });
        Duration::from_millis(remaining.max(0) as u64)
    }

    /// Writes one line to the function's log.
    pub fn log(&self, line: &str) {
        log(self.ctx, line)
    }

    /// Who asked for this invocation; an asynchronous invocation's runs name whoever
    /// queued it.
    pub fn caller(&self) -> Caller<'a> {
        if self.ctx.abi_version < 2 {
            return Caller::default();
        }
        unsafe {
            Caller {
                key_id: text(self.ctx.caller_key_id),
                role: text(self.ctx.caller_role),
                user_sub: text(self.ctx.caller_user_sub),
                schedule: text(self.ctx.caller_schedule),
            }
        }
    }
}

/// What the init hook sees: the function, not an invocation.
pub struct InitContext<'a> {
    ctx: &'a sys::sofaas_context,
}

impl<'a> InitContext<'a> {
    pub fn function_name(&self) -> &'a str {
        unsafe { text(self.ctx.function_name) }
    }

    pub fn function_version(&self) -> u32 {
        self.ctx.function_version
    }

    pub fn memory_limit_mb(&self) -> u32 {
        self.ctx.memory_limit_mb
    }

    pub fn log(&self, line: &str) {
        log(self.ctx, line)
    }
}

/// A successful invocation's output bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    body: Vec<u8>,
}

impl Response {
    pub fn new(body: impl Into<Vec<u8>>) -> Self {
        Response { body: body.into() }
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

impl From<String> for Response {
    fn from(body: String) -> Self {
        Response::new(body)
    }
}

impl From<&str> for Response {
    fn from(body: &str) -> Self {
        Response::new(body)
    }
}

impl From<Vec<u8>> for Response {
    fn from(body: Vec<u8>) -> Self {
        Response::new(body)
    }
}

/// A function error: Lambda's `errorType` and `errorMessage`. Any `std::error::Error`
/// converts into one (so `?` works), typed by its Rust type name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    error_type: String,
    message: String,
}

impl Error {
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Error { error_type: error_type.into(), message: message.into() }
    }

    /// An error of the default type, `FunctionError`.
    pub fn message(message: impl Into<String>) -> Self {
        Error::new("FunctionError", message)
    }

    pub fn error_type(&self) -> &str {
        &self.error_type
    }

    pub fn error_message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

impl<E: std::error::Error> From<E> for Error {
    fn from(error: E) -> Self {
        Error::new(std::any::type_name::<E>(), error.to_string())
    }
}

/// Exports `sofaas_abi_version` and `sofaas_handler` calling
/// `fn(&sofaas::Request) -> Result<sofaas::Response, sofaas::Error>`.
#[macro_export]
macro_rules! handler {
    ($handler:path) => {
        #[no_mangle]
        pub extern "C" fn sofaas_abi_version() -> u32 {
            $crate::sys::SOFAAS_ABI_VERSION
        }

        /// # Safety
        /// Called by the sofaas host only, with its context and the event's bytes.
        #[no_mangle]
        pub unsafe extern "C" fn sofaas_handler(
            ctx: *const $crate::sys::sofaas_context,
            event: *const u8,
            len: usize,
        ) -> ::std::os::raw::c_int {
            $crate::__private::invoke(ctx, event, len, $handler)
        }
    };
}

/// Exports `sofaas_init` calling `fn(&sofaas::InitContext) -> Result<(), sofaas::Error>`
/// once per cold start; an error refuses the deploy (`Runtime.InitError`).
#[macro_export]
macro_rules! init {
    ($init:path) => {
        /// # Safety
        /// Called by the sofaas host only, with its context.
        #[no_mangle]
        pub unsafe extern "C" fn sofaas_init(ctx: *const $crate::sys::sofaas_context) -> ::std::os::raw::c_int {
            $crate::__private::init(ctx, $init)
        }
    };
}

#[doc(hidden)]
pub mod __private {
    use super::*;

    /// # Safety
    /// `ctx` is the host's context for this call; `event` points at `len` bytes (or is
    /// null with `len` 0).
    pub unsafe fn invoke<F>(ctx: *const sys::sofaas_context, event: *const u8, len: usize, handler: F) -> c_int
    where
        F: FnOnce(&Request) -> Result<Response, Error>,
    {
        let ctx = &*ctx;
        let payload = if event.is_null() || len == 0 { &[][..] } else { std::slice::from_raw_parts(event, len) };
        let request = Request { ctx, payload };
        match catch_unwind(AssertUnwindSafe(|| handler(&request))) {
            Ok(Ok(response)) => {
                if let Some(respond) = (*ctx.host).respond {
                    respond(ctx, response.body.as_ptr().cast(), response.body.len());
                }
                sys::SOFAAS_OK
            }
            Ok(Err(error)) => fail(ctx, &error.error_type, &error.message),
            Err(panic) => fail(ctx, "Panic", &panic_message(panic.as_ref())),
        }
    }

    /// # Safety
    /// `ctx` is the host's context for this call.
    pub unsafe fn init<F>(ctx: *const sys::sofaas_context, init: F) -> c_int
    where
        F: FnOnce(&InitContext) -> Result<(), Error>,
    {
        let ctx = &*ctx;
        let context = InitContext { ctx };
        match catch_unwind(AssertUnwindSafe(|| init(&context))) {
            Ok(Ok(())) => sys::SOFAAS_OK,
            Ok(Err(error)) => fail(ctx, &error.error_type, &error.message),
            Err(panic) => fail(ctx, "Panic", &panic_message(panic.as_ref())),
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "the function panicked".to_string()
    }
}

/// A C string of `text`, its NUL bytes (which C would stop at) replaced.
fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{FFFD}")).expect("no NUL left")
}

fn fail(ctx: &sys::sofaas_context, error_type: &str, message: &str) -> c_int {
    let error_type = c_string(error_type);
    let message = c_string(message);
    if let Some(fail) = unsafe { (*ctx.host).fail } {
        unsafe { fail(ctx, error_type.as_ptr(), message.as_ptr()) };
    }
    sys::SOFAAS_ERROR
}

fn log(ctx: &sys::sofaas_context, line: &str) {
    if let Some(log) = unsafe { (*ctx.host).log } {
        unsafe { log(ctx, line.as_ptr().cast::<c_char>(), line.len()) };
    }
}

/// # Safety
/// `text` is null or a NUL-terminated string that outlives `'a`.
unsafe fn text<'a>(text: *const c_char) -> &'a str {
    if text.is_null() {
        return "";
    }
    CStr::from_ptr(text).to_str().unwrap_or("")
}
