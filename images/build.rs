//! Builds the bundled guest images from source.
//!
//! 1. A nested `cargo build --release` in `../guest-kernel` (its own workspace, target
//!    `riscv64imac-unknown-none-elf`) builds the `kernel` binary and every binary of the `user`
//!    crate into `$OUT_DIR/guest-target`, and the `kernel` with `--features eager-fork` into
//!    `$OUT_DIR/guest-target-eager` (a separate target dir, so both kernels coexist), and with
//!    `--features odf` (on-demand fork) into `$OUT_DIR/guest-target-odf`.
//! 2. The host `mkfs` library packs the user programs (each under its binary name) and a README
//!    into an xv6-format file system.
//!
//! Outputs, all in `$OUT_DIR`: `kernel.img`, `kernel-eager.img`, `kernel-odf.img` (ELF), `fs.img` (raw disk
//! image) and `user_programs.rs` (the list of program names, included by `src/lib.rs`).
//!
//! The nested cargo runs with the environment of the outer build cleaned (RUSTFLAGS,
//! CARGO_TARGET_DIR, wrappers, every CARGO_* variable the outer cargo sets), so it builds the
//! guest exactly as `cd guest-kernel && cargo build --release` would. The guest target is
//! provisioned with `rustup target add` when missing.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The guest's target triple (soft-float RV64IMAC: the guest never needs F/D).
const GUEST_TARGET: &str = "riscv64imac-unknown-none-elf";

/// The text file every fs.img carries as `README`.
const FS_README: &str = "src/fs-readme.txt";

fn main() {
    if let Err(message) = build() {
        // One line cargo shows under "error: failed to run custom build command".
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn build() -> Result<(), String> {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR unset")?);
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").ok_or("OUT_DIR unset")?);
    let guest_dir = manifest_dir.join("..").join("guest-kernel");
    let guest_dir = guest_dir.canonicalize().map_err(|e| {
        format!(
            "{}: {e} (the guest sources must sit beside images/)",
            guest_dir.display()
        )
    })?;

    for input in [
        "abi",
        "kernel",
        "user",
        "Cargo.toml",
        "Cargo.lock",
        ".cargo",
    ] {
        println!("cargo:rerun-if-changed={}", guest_dir.join(input).display());
    }
    println!("cargo:rerun-if-changed={FS_README}");

    ensure_guest_target()?;

    let cargo = PathBuf::from(env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")));

    // The copy-on-write kernel and the user programs share one target dir (abi is built once).
    let cow_dir = out_dir.join("guest-target");
    let artifacts = guest_cargo_build(
        &cargo,
        &guest_dir,
        &cow_dir,
        &["-p", "kernel", "-p", "user"],
    )?;
    let kernel = artifact(&artifacts, "kernel", "kernel")?;
    copy_if_changed(&kernel, &out_dir.join("kernel.img"))?;

    let eager_dir = out_dir.join("guest-target-eager");
    let eager = guest_cargo_build(
        &cargo,
        &guest_dir,
        &eager_dir,
        &["-p", "kernel", "--features", "kernel/eager-fork"],
    )?;
    let kernel_eager = artifact(&eager, "kernel", "kernel")?;
    copy_if_changed(&kernel_eager, &out_dir.join("kernel-eager.img"))?;

    let odf_dir = out_dir.join("guest-target-odf");
    let odf = guest_cargo_build(
        &cargo,
        &guest_dir,
        &odf_dir,
        &["-p", "kernel", "--features", "kernel/odf"],
    )?;
    let kernel_odf = artifact(&odf, "kernel", "kernel")?;
    copy_if_changed(&kernel_odf, &out_dir.join("kernel-odf.img"))?;

    // Every binary of the user crate, sorted by name so fs.img is reproducible. The programs
    // with their symbols go to OUT_DIR/user/ (for gdb); fs.img gets them stripped.
    let user_dir = out_dir.join("user");
    fs::create_dir_all(&user_dir).map_err(|e| format!("{}: {e}", user_dir.display()))?;
    let mut programs: Vec<(String, Vec<u8>)> = Vec::new();
    for a in artifacts.iter().filter(|a| a.package == "user") {
        let bytes =
            fs::read(&a.executable).map_err(|e| format!("{}: {e}", a.executable.display()))?;
        write_if_changed(&user_dir.join(&a.target), &bytes)?;
        let stripped = strip_elf(&bytes)
            .ok_or_else(|| format!("{}: not an ELF64 executable", a.executable.display()))?;
        programs.push((a.target.clone(), stripped));
    }
    programs.sort_by(|a, b| a.0.cmp(&b.0));
    programs.dedup_by(|a, b| a.0 == b.0);

    let readme = fs::read(manifest_dir.join(FS_README)).map_err(|e| format!("{FS_README}: {e}"))?;
    let mut files: Vec<(&str, &[u8])> = vec![("README", &readme)];
    files.extend(
        programs
            .iter()
            .map(|(name, bytes)| (name.as_str(), bytes.as_slice())),
    );
    let image = fs_image::make(&files)?;
    write_if_changed(&out_dir.join("fs.img"), &image)?;

    let names: Vec<String> = programs.iter().map(|(n, _)| format!("{n:?}")).collect();
    let list = format!("&[{}]\n", names.join(", "));
    write_if_changed(&out_dir.join("user_programs.rs"), list.as_bytes())?;
    Ok(())
}

/// What `strip --strip-all` leaves of a little-endian ELF64 executable for a loader: the bytes
/// up to the end of the last PT_LOAD segment, without section headers. Other program headers
/// whose data lay beyond (e.g. PT_RISCV_ATTRIBUTES) become PT_NULL. None if `elf` is not ELF64.
fn strip_elf(elf: &[u8]) -> Option<Vec<u8>> {
    let u16_at = |b: &[u8], o: usize| Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |b: &[u8], o: usize| Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |b: &[u8], o: usize| Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?));
    if elf.get(..5)? != b"\x7fELF\x02" || elf.get(5) != Some(&1) {
        return None;
    }
    let phoff = u64_at(elf, 0x20)? as usize;
    let phentsize = u16_at(elf, 0x36)? as usize;
    let phnum = u16_at(elf, 0x38)? as usize;
    let headers_end = phoff.checked_add(phentsize.checked_mul(phnum)?)?;
    let mut end = headers_end;
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if u32_at(elf, ph)? == 1 {
            end = end.max((u64_at(elf, ph + 8)? + u64_at(elf, ph + 32)?) as usize);
        }
    }
    let mut out = elf.get(..end)?.to_vec();
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if u32_at(&out, ph)? != 1 && (u64_at(&out, ph + 8)? + u64_at(&out, ph + 32)?) as usize > end
        {
            out[ph..ph + 4].copy_from_slice(&0u32.to_le_bytes());
        }
    }
    // No section headers: e_shoff, e_shnum, e_shstrndx = 0.
    out[0x28..0x30].fill(0);
    out[0x3c..0x40].fill(0);
    Some(out)
}

/// fs.img assembly through the USER team's host `mkfs` library.
mod fs_image {
    /// Packs `files` (name, contents) into an xv6 file-system image.
    pub fn make(files: &[(&str, &[u8])]) -> Result<Vec<u8>, String> {
        mkfs::make_fs_image(files).map_err(|e| format!("mkfs: building fs.img failed: {e}"))
    }
}

/// Makes sure the active toolchain has the guest target, adding it with rustup once if not.
fn ensure_guest_target() -> Result<(), String> {
    let fix = format!("run `rustup target add {GUEST_TARGET}` and build again");
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .stderr(Stdio::null())
        .output();
    let installed = match installed {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        // No rustup (a distro toolchain): the nested build reports a missing target itself.
        _ => return Ok(()),
    };
    if installed.lines().any(|l| l.trim() == GUEST_TARGET) {
        return Ok(());
    }
    println!("cargo:warning=images: the guest target {GUEST_TARGET} was missing; running `rustup target add {GUEST_TARGET}` (once)");
    let status = Command::new("rustup")
        .args(["target", "add", GUEST_TARGET])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("rustup: {e}; {fix}"))?;
    if !status.success() {
        return Err(format!(
            "`rustup target add {GUEST_TARGET}` failed ({status}); {fix}"
        ));
    }
    Ok(())
}

/// One executable the nested cargo produced.
struct Artifact {
    package: String,
    target: String,
    executable: PathBuf,
}

fn artifact(list: &[Artifact], package: &str, target: &str) -> Result<PathBuf, String> {
    list.iter()
        .find(|a| a.package == package && a.target == target)
        .map(|a| a.executable.clone())
        .ok_or_else(|| format!("guest build produced no `{target}` binary of package `{package}`"))
}

/// Runs `cargo build --release --target GUEST_TARGET` in the guest workspace with a cleaned
/// environment and returns the executables it reports.
fn guest_cargo_build(
    cargo: &Path,
    guest_dir: &Path,
    target_dir: &Path,
    args: &[&str],
) -> Result<Vec<Artifact>, String> {
    let mut cmd = Command::new(cargo);
    cmd.current_dir(guest_dir)
        .args([
            "build",
            "--release",
            "--message-format=json-render-diagnostics",
            "--target",
            GUEST_TARGET,
        ])
        .arg("--target-dir")
        .arg(target_dir)
        .arg("--config")
        .arg(remap_config(guest_dir))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if leaks_into_nested_cargo(key) {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .output()
        .map_err(|e| format!("{}: {e} (is cargo installed?)", cargo.display()))?;
    if !out.status.success() {
        return Err(format!(
            "building the guest ({}) failed: see the compiler output above; reproduce with `cd guest-kernel && cargo build --release {}`",
            guest_dir.display(),
            args.join(" ")
        ));
    }
    let mut artifacts = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(executable) = msg["executable"].as_str() else {
            continue;
        };
        let Some(target) = msg["target"]["name"].as_str() else {
            continue;
        };
        let package = package_name(msg["package_id"].as_str().unwrap_or_default());
        artifacts.push(Artifact {
            package,
            target: target.to_string(),
            executable: PathBuf::from(executable),
        });
    }
    Ok(artifacts)
}

/// `--config` for the nested cargo: remap the checkout's absolute path (in the kernel's debug
/// info) to `/guest-kernel`, so kernel.img is the same bytes wherever the repository lives.
/// Cargo joins this array with any `build.rustflags` of guest-kernel/.cargo/config.toml.
fn remap_config(guest_dir: &Path) -> String {
    let dir = guest_dir
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    format!("build.rustflags=[\"--remap-path-prefix={dir}=/guest-kernel\"]")
}

/// The package name in a cargo package ID spec: `path+file:///…/user#0.1.0` (name = last path
/// segment) or `path+file:///…/dir#user@0.1.0`.
fn package_name(id: &str) -> String {
    let (url, fragment) = id.rsplit_once('#').unwrap_or((id, ""));
    match fragment.split_once('@') {
        Some((name, _version)) => name.to_string(),
        None => url.rsplit('/').next().unwrap_or_default().to_string(),
    }
}

/// Whether an environment variable of this build script would change the nested guest build.
/// Kept: CARGO_HOME and the user's network/registry/terminal settings, RUSTUP_* (same toolchain).
fn leaks_into_nested_cargo(key: &str) -> bool {
    const KEEP_PREFIXES: [&str; 6] = [
        "CARGO_HOME",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
        "CARGO_TERM_",
    ];
    const REMOVE: [&str; 17] = [
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_LINKER",
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC_BOOTSTRAP",
        "TARGET",
        "HOST",
        "PROFILE",
        "OPT_LEVEL",
        "DEBUG",
        "NUM_JOBS",
        "OUT_DIR",
        "MAKEFLAGS",
    ];
    if key.starts_with("CARGO_") || key.starts_with("__CARGO") {
        return !KEEP_PREFIXES.iter().any(|p| key.starts_with(p));
    }
    REMOVE.contains(&key) || key == "MFLAGS"
}

fn copy_if_changed(from: &Path, to: &Path) -> Result<(), String> {
    let bytes = fs::read(from).map_err(|e| format!("{}: {e}", from.display()))?;
    write_if_changed(to, &bytes)
}

/// Writes `bytes` unless the file already holds them (keeps mtimes stable for include_bytes!).
fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}
