fn main() {
    eprintln!("emu-cli: not yet implemented (issue 6)");
    std::process::exit(1);
}
