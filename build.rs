// A position-independent executable is relocated by the dynamic loader on every start: for
// this binary that is tens of thousands of relocations over 1.5 MB, about a millisecond and a
// half per command. Linked at a fixed address, there is nothing to relocate.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
