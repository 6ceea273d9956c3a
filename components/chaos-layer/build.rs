//! Links the layer with a 64 KiB stack instead of Rust's default 1 MiB: its
//! deepest call (one problem document into JSON) needs a few KiB, and every
//! request instantiates the layer, so its linear memory stays a few pages.
fn main() {
    println!("cargo:rustc-link-arg=-zstack-size=65536");
}
