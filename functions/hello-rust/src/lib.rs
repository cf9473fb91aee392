//! hello in Rust: greets the name it is sent, fails without one, and says how it started.
use std::sync::Mutex;

// Set by the init hook, once per cold start.
static STARTED: Mutex<String> = Mutex::new(String::new());

fn init(context: &sofaas::InitContext) -> Result<(), sofaas::Error> {
    context.log("hello-rust: ready");
    *STARTED.lock().unwrap() = format!("{} {}", context.function_name(), context.function_version());
    Ok(())
}

fn handle(request: &sofaas::Request) -> Result<sofaas::Response, sofaas::Error> {
    let name = request.payload_str()?;
    match name {
        "" => Err(sofaas::Error::new("InvalidInput", "send a name")),
        "panic" => panic!("asked to panic"),
        _ => {
            request.log("greeting someone");
            let started = STARTED.lock().unwrap();
            Ok(format!("Hello from Rust, {name}! ({started})").into())
        }
    }
}

sofaas::init!(init);
sofaas::handler!(handle);
