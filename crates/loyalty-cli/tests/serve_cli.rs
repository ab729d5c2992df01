//! `loyalty serve` as a process: it starts from a `loyalty.toml`, answers `/health` openly and
//! everything else only with the key, stops on SIGTERM, and refuses to start without a key.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "cli-serve-key-0123456789";

fn config(dir: &std::path::Path, port: u16) -> std::path::PathBuf {
    let path = dir.join("loyalty.toml");
    std::fs::write(
        &path,
        format!(
            "[provider]\nkind = \"memory\"\n[store]\nurl = \"memory:\"\n[serve]\nlisten = \"127.0.0.1:{port}\"\napi_key_env = \"SHOP_SERVE_KEY\"\n"
        ),
    )
    .unwrap();
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A scratch folder, removed when the test ends (also when it fails).
fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(&format!("loyalty-serve-cli-{name}-")).tempdir().unwrap()
}

#[test]
fn serve_answers_health_openly_and_the_rest_only_with_the_key() {
    let dir = temp_dir("run");
    let port = free_port();
    let path = config(dir.path(), port);
    let mut child = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(["serve", "--config"])
        .arg(&path)
        .env("SHOP_SERVE_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.contains(&format!("127.0.0.1:{port}")) && !first.contains(KEY), "{first}");

    let base = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        let health = loop {
            match http.get(format!("{base}/health")).send().await {
                Ok(r) => break r,
                Err(_) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(health.status(), 200);
        let r = http.get(format!("{base}/v1/capabilities")).send().await.unwrap();
        assert_eq!(r.status(), 401);
        let r = http.get(format!("{base}/v1/capabilities")).bearer_auth(KEY).send().await.unwrap();
        assert_eq!(r.status(), 200);
    });
    // SIGTERM stops it cleanly.
    Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!err.contains(KEY), "the key was printed: {err}");
}

#[test]
fn serve_refuses_to_start_without_its_key_naming_the_variable() {
    let dir = temp_dir("nokey");
    let path = config(dir.path(), free_port());
    let out = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(["serve", "--config"])
        .arg(&path)
        .env_remove("SHOP_SERVE_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SHOP_SERVE_KEY"), "{err}");
    assert!(err.contains(&path.display().to_string()), "names the file: {err}");
}

#[test]
fn a_serve_error_is_one_line_naming_the_key_and_the_file() {
    let dir = temp_dir("badlisten");
    let path = dir.path().join("shop.toml");
    std::fs::write(
        &path,
        "[provider]\nkind = \"memory\"\n[store]\nurl = \"memory:\"\n[serve]\nlisten = \"nowhere\"\napi_key_env = \"SHOP_SERVE_KEY\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(["serve", "--config"])
        .arg(&path)
        .env("SHOP_SERVE_KEY", KEY)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("serve.listen") && err.contains("shop.toml"), "{err}");
}

#[test]
fn print_openapi_needs_no_configuration() {
    let out = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(["serve", "--print-openapi", "--config", "/nonexistent/loyalty.toml"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
}

/// `--listen 127.0.0.1:0` asks the system for a free port: the first line names the port it
/// got (a harness reads it from there), and the service answers on it.
#[test]
fn serve_on_port_0_prints_the_port_it_bound() {
    let dir = temp_dir("port0");
    let path = config(dir.path(), 0);
    let mut child = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(["serve", "--config"])
        .arg(&path)
        .env("SHOP_SERVE_KEY", KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_string();
    assert!(!base.ends_with(":0"), "{first}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let status = rt.block_on(async { reqwest::get(format!("{base}/health")).await.map(|r| r.status()) });
    Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    child.wait().unwrap();
    assert_eq!(status.unwrap(), 200, "{first}");
}
