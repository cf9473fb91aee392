//! The bindings of `include/sofaas/sofaas.h`, field for field. `tests/layout.rs` compiles
//! the header and fails when a size, an offset or a constant here differs from it.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

pub const SOFAAS_ABI_VERSION: u32 = 2;
pub const SOFAAS_OK: c_int = 0;
pub const SOFAAS_ERROR: c_int = 1;

#[repr(C)]
pub struct sofaas_host {
    pub respond: Option<unsafe extern "C" fn(ctx: *const sofaas_context, data: *const c_void, len: usize)>,
    pub fail: Option<
        unsafe extern "C" fn(ctx: *const sofaas_context, error_type: *const c_char, error_message: *const c_char),
    >,
    pub log: Option<unsafe extern "C" fn(ctx: *const sofaas_context, message: *const c_char, len: usize)>,
    pub remaining_ms: Option<unsafe extern "C" fn(ctx: *const sofaas_context) -> i64>,
}

#[repr(C)]
pub struct sofaas_context {
    pub abi_version: u32,
    pub request_id: *const c_char,
    pub function_name: *const c_char,
    pub function_version: u32,
    pub memory_limit_mb: u32,
    pub host: *const sofaas_host,
    pub host_data: *mut c_void,
    // Version 2: read only when abi_version >= 2 (a version 1 host's context ends above).
    pub caller_key_id: *const c_char,
    pub caller_role: *const c_char,
    pub caller_user_sub: *const c_char,
    pub caller_schedule: *const c_char,
}

pub type sofaas_abi_version_fn = unsafe extern "C" fn() -> u32;
pub type sofaas_handler_fn =
    unsafe extern "C" fn(ctx: *const sofaas_context, event: *const u8, event_len: usize) -> c_int;
pub type sofaas_init_fn = unsafe extern "C" fn(ctx: *const sofaas_context) -> c_int;
