# Rust, for sdk/rust and the Rust example functions: Debian's cargo and rustc (no crates
# from the internet: every build and test runs with --offline). Without cargo those are
# not built and the tests that need them say so when skipped.
option(SOFAAS_RUST "Build the Rust SDK and functions where cargo is" ON)
if(SOFAAS_RUST)
  find_program(SOFAAS_CARGO cargo)
else()
  unset(SOFAAS_CARGO CACHE)
endif()
if(SOFAAS_CARGO)
  # The rustc and rustdoc beside that cargo, not whichever come first on PATH: a crate
  # compiled by one rustc cannot be read by another's rustdoc.
  get_filename_component(cargo_dir ${SOFAAS_CARGO} DIRECTORY)
  find_program(SOFAAS_RUSTC rustc HINTS ${cargo_dir} NO_DEFAULT_PATH)
  find_program(SOFAAS_RUSTC rustc)
  find_program(SOFAAS_RUSTDOC rustdoc HINTS ${cargo_dir} NO_DEFAULT_PATH)
  find_program(SOFAAS_RUSTDOC rustdoc)
  set(SOFAAS_CARGO_TARGET_DIR ${CMAKE_BINARY_DIR}/cargo)
  set(SOFAAS_CARGO_ENV ${CMAKE_COMMAND} -E env RUSTC=${SOFAAS_RUSTC} RUSTDOC=${SOFAAS_RUSTDOC}
      CC=${CMAKE_C_COMPILER} SOFAAS_INCLUDE_DIR=${CMAKE_SOURCE_DIR}/include)
  message(STATUS "Rust SDK and functions: ${SOFAAS_CARGO} with ${SOFAAS_RUSTC}")
else()
  message(STATUS "Rust SDK and functions: not built (no cargo; scripts/install-deps.sh installs it)")
endif()

# sofaas_add_rust_function(NAME DIRECTORY): builds the cdylib crate in DIRECTORY (release,
# offline) and copies it to functions/NAME.so like the C and C++ examples.
function(sofaas_add_rust_function name directory)
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${directory}/src/*.rs ${CMAKE_SOURCE_DIR}/sdk/rust/src/*.rs)
  string(REPLACE "-" "_" crate ${name})
  set(output ${CMAKE_LIBRARY_OUTPUT_DIRECTORY}/${name}.so)
  add_custom_command(OUTPUT ${output}
    COMMAND ${SOFAAS_CARGO_ENV} ${SOFAAS_CARGO} build --release --offline --quiet
            --manifest-path ${directory}/Cargo.toml --target-dir ${SOFAAS_CARGO_TARGET_DIR}
    COMMAND ${CMAKE_COMMAND} -E copy ${SOFAAS_CARGO_TARGET_DIR}/release/lib${crate}.so ${output}
    DEPENDS ${sources} ${directory}/Cargo.toml ${CMAKE_SOURCE_DIR}/sdk/rust/Cargo.toml
    COMMENT "Building the Rust function ${name}"
    VERBATIM)
  add_custom_target(${name} DEPENDS ${output})
endfunction()
