//! The support-desk commands through the binary: `member`, `offers`, `checkout`, `return`,
//! `pending`, `resend`, each against the provider a `loyalty.toml` names.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A scratch directory holding a `loyalty.toml` and baskets.
struct Shop {
    dir: tempfile::TempDir,
}

impl Shop {
    fn new(name: &str, config: &str) -> Shop {
        let dir = tempfile::Builder::new().prefix(&format!("loyalty-cli-{name}-")).tempdir().unwrap();
        std::fs::write(dir.path().join("loyalty.toml"), config).unwrap();
        std::fs::write(
            dir.path().join("basket.json"),
            r#"{"currency": "NOK", "lines": [
                {"line_id": "1", "product_id": "COF-500", "quantity": "2", "unit_price": "129.00"},
                {"line_id": "2", "product_id": "MUG-1", "quantity": "1", "unit_price": "199.00"}]}"#,
        )
        .unwrap();
        Shop { dir }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("runs")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_loyalty"));
        c.current_dir(self.dir.path()).env_remove("LOYALTY_CONFIG").args(args);
        c
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}", stdout(&out)))
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const MEMORY: &str = "[provider]\nkind = \"memory\"\n[store]\nurl = \"sqlite:checkouts.db\"\n";

fn one_error_line(o: &Output) -> String {
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line: {err:?}");
    assert!(lines[0].starts_with("error: "), "{err:?}");
    assert!(!err.contains("panicked"), "{err}");
    lines[0].to_string()
}

#[test]
fn a_missing_config_file_is_one_line_and_exit_2() {
    let shop = Shop::new("missing", MEMORY);
    let out = shop.run(&["--config", "nowhere.toml", "pending"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(one_error_line(&out).contains("nowhere.toml"));
}

#[test]
fn an_unknown_key_names_the_key_and_the_file() {
    let shop = Shop::new("unknown-key", "[provider]\nkind = \"memory\"\ncolour = \"blue\"\n");
    let out = shop.run(&["member", "find", "--id", "m-1001"]);
    assert_eq!(out.status.code(), Some(2));
    let line = one_error_line(&out);
    assert!(line.contains("provider.colour") && line.contains("loyalty.toml"), "{line}");
}

#[test]
fn the_config_comes_from_the_environment_when_not_given() {
    let shop = Shop::new("env", MEMORY);
    std::fs::rename(shop.file("loyalty.toml"), shop.file("elsewhere.toml")).unwrap();
    let out = shop
        .command(&["member", "find", "--id", "m-1001"])
        .env("LOYALTY_CONFIG", "elsewhere.toml")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Kari Nordmann"));
}

#[test]
fn member_find_prints_the_member_or_json() {
    let shop = Shop::new("find", MEMORY);
    let out = shop.run(&["member", "find", "--phone", "+4741234567"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("m-1001 (Kari Nordmann)"), "{}", stdout(&out));
    let v = shop.json(&["member", "find", "--email", "kari.nordmann@example.com", "--json"]);
    assert_eq!(v["id"], "m-1001");
    let out = shop.run(&["member", "find", "--phone", "12"]);
    assert_eq!(out.status.code(), Some(2), "a malformed phone is bad input");
    let out = shop.run(&["member", "find", "--phone", "+4799999999"]);
    assert_eq!(out.status.code(), Some(1), "nobody with that phone: {}", stdout(&out));
}

#[test]
fn member_register_then_find() {
    let shop = Shop::new("register", MEMORY);
    let v = shop.json(&[
        "member",
        "register",
        "--phone",
        "+4790000001",
        "--email",
        "ada@example.com",
        "--first-name",
        "Ada",
        "--consent",
        "membership,order_history",
        "--json",
    ]);
    assert!(v["id"].is_string(), "{v}");
    assert_eq!(v["consents"]["membership"], true);
    let out = shop.run(&["member", "register", "--phone", "+4790000001", "--consent", "telepathy"]);
    assert_eq!(out.status.code(), Some(2), "an unknown consent is bad input");
    assert!(one_error_line(&out).contains("telepathy"));
    // A control character in a contact detail is bad input naming the option; nothing registered.
    let out =
        shop.run(&["member", "register", "--email", "eve\u{1b}[2J@example.com", "--consent", "membership"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let line = one_error_line(&out);
    assert!(line.starts_with("error: --email: contains the control character U+001B"), "{line}");
    let out = shop.run(&["member", "find", "--email", "eve[2J@example.com"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
}

#[test]
fn offers_for_a_member_and_a_basket() {
    let shop = Shop::new("offers", MEMORY);
    let out = shop.run(&["offers", "--member", "m-1001"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("10 % off everything") && text.contains("1 use left"), "{text}");
    let v = shop.json(&["offers", "--member", "m-1001", "--basket", "basket.json", "--json"]);
    assert!(v.as_array().is_some_and(|a| !a.is_empty()), "{v}");
    let out = shop.run(&["offers", "--member", "m-1001", "--basket", "no-such-basket.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(one_error_line(&out).contains("no-such-basket.json"));
}

#[test]
fn checkout_prints_a_receipt_and_is_once_per_order() {
    let shop = Shop::new("checkout", MEMORY);
    let out = shop.run(&["checkout", "--basket", "basket.json", "--member", "m-1001", "--order", "A-1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let receipt = stdout(&out);
    assert!(receipt.contains("order A-1"), "{receipt}");
    assert!(receipt.contains("2 x COF-500 @ 129.00"), "{receipt}");
    assert!(receipt.contains("20 % off coffee"), "the offer's title, not its id: {receipt}");
    assert!(receipt.contains("Paid (NOK)"), "{receipt}");
    assert!(receipt.contains("sent to memory: recorded"), "{receipt}");
    assert!(!receipt.contains("Some(") && !receipt.contains("OfferId("), "no Debug text: {receipt}");

    // The same order again is the same sale, read from the checkout store (not a second one).
    let again =
        shop.json(&["checkout", "--basket", "basket.json", "--member", "m-1001", "--order", "A-1", "--json"]);
    assert_eq!(again["status"], "completed", "{again}");
    assert_eq!(again["transaction"]["id"], "A-1");

    // Another basket under the same order id is refused: never a second charge.
    std::fs::write(
        shop.file("other.json"),
        r#"{"currency": "NOK", "lines": [{"line_id": "1", "product_id": "MUG-1", "quantity": "1", "unit_price": "199.00"}]}"#,
    )
    .unwrap();
    let out = shop.run(&["checkout", "--basket", "other.json", "--member", "m-1001", "--order", "A-1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(one_error_line(&out).contains("different basket"));
}

#[test]
fn a_basket_with_offers_in_it_is_bad_input() {
    let shop = Shop::new("basket-offers", MEMORY);
    std::fs::write(
        shop.file("priced.json"),
        r#"{"currency": "NOK", "lines": [{"line_id": "1", "product_id": "MUG-1", "quantity": "1", "unit_price": "199.00"}],
            "offers": [{"id": "x", "kind": "coupon", "scope": "basket", "discount": {"percent": "10"}}]}"#,
    )
    .unwrap();
    let out = shop.run(&["checkout", "--basket", "priced.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_return_line_must_be_line_and_quantity() {
    let shop = Shop::new("return-args", MEMORY);
    let out = shop.run(&["return", "--order", "A-1", "--line", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(one_error_line(&out).contains("LINE:QTY"));
    let out = shop.run(&["return", "--order", "A-1", "--line", "1:lots"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The command line takes what `loyalty serve` takes, so a till cannot record what the service
/// refuses: an order or return id is 1 to 255 visible ASCII characters (over HTTP it travels
/// as the `Idempotency-Key`), a returned quantity a plain decimal (`1e0` is refused in a JSON
/// body, so it is here). Each is exit 2 naming the option, before anything is recorded.
#[test]
fn ids_and_quantities_follow_the_services_rules() {
    let shop = Shop::new("input-rules", MEMORY);
    for order in [" ", "A 1", "ordre-\u{f8}", ""] {
        let out = shop.run(&["checkout", "--basket", "basket.json", "--member", "m-1001", "--order", order]);
        assert_eq!(out.status.code(), Some(2), "{order:?}: {}", stdout(&out));
        let line = one_error_line(&out);
        assert!(line.contains("--order") && line.contains("visible ASCII"), "{line}");
    }
    let out = shop.run(&["checkout", "--basket", "basket.json", "--member", "m-1001", "--order", "A-1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = shop.run(&["return", "--order", "A-1", "--return-id", " ", "--line", "1:1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(one_error_line(&out).contains("--return-id"));
    let out = shop.run(&["return", "--order", "A-\u{7}1", "--line", "1:1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(one_error_line(&out).contains("--order"));
    for qty in ["1e0", "1_0", "0x1"] {
        let out = shop.run(&["return", "--order", "A-1", "--line", &format!("1:{qty}")]);
        assert_eq!(out.status.code(), Some(2), "{qty}: {}", stdout(&out));
        assert!(one_error_line(&out).contains("not a quantity"), "{qty}");
    }
}

#[test]
fn an_empty_outbox_and_a_resend_with_nothing_to_send() {
    let shop = Shop::new("outbox", MEMORY);
    let out = shop.run(&["pending"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("empty"));
    let v = shop.json(&["pending", "--json"]);
    assert_eq!(v, serde_json::json!([]));
    let out = shop.run(&["resend"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let shop = Shop::new("pipe", MEMORY);
    let mut child = shop
        .command(&["offers", "--member", "m-1001"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader (`| head`) has gone before the first line
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit {:?}: {}", out.status, stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn a_usage_error_is_one_line_and_exit_2() {
    let shop = Shop::new("usage", MEMORY);
    let out = shop.run(&["return", "--line", "1:1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let line = one_error_line(&out);
    assert!(line.contains("--order"), "names what is missing: {line}");
    assert!(!line.starts_with("error: error:"), "{line}");
    let out = shop.run(&["pending", "--colour", "blue"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(one_error_line(&out).contains("--colour"));
    // Help and version are not errors: printed on stdout, exit 0.
    let out = shop.run(&["return", "--help"]);
    assert!(out.status.success() && stdout(&out).contains("--order"), "{}", stderr(&out));
    let out = shop.run(&["--version"]);
    assert!(out.status.success() && stdout(&out).starts_with("loyalty "), "{}", stdout(&out));
}

#[test]
fn a_usage_error_shows_the_value_typed_with_its_control_characters_escaped() {
    let shop = Shop::new("usage-escapes", MEMORY);
    // "pri", ESC [2J (clear the screen), "ce": not the subcommand `price`, and shown as typed.
    let out = shop.run(&["pri\u{1b}[2Jce"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(one_error_line(&out), "error: unrecognized subcommand 'pri\\u{1b}[2Jce'");
    // A bell inside an address: not the valid 127.0.0.1:8080.
    let out = shop.run(&["serve", "--listen", "127.0.0.1:80\u{7}80"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let line = one_error_line(&out);
    assert!(
        line.starts_with("error: invalid value '127.0.0.1:80\\u{7}80' for '--listen <LISTEN>'"),
        "{line}"
    );
    // An unknown option and a value outside the possible ones, likewise.
    let out = shop.run(&["pending", "--col\u{9b}our"]);
    assert_eq!(one_error_line(&out), "error: unexpected argument '--col\\u{9b}our' found");
    if cfg!(feature = "dev") {
        let out = shop.run(&["capabilities", "--format", "js\u{7f}on"]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        let line = one_error_line(&out);
        assert!(line.starts_with("error: invalid value 'js\\u{7f}on' for '--format"), "{line}");
    }
    // A value that long is cut, as every error line cuts one.
    let long = "x".repeat(10_000);
    let line = one_error_line(&shop.run(&[&long]));
    assert!(line.len() < 200 && line.contains('…'), "{line}");
}

#[test]
fn members_is_another_name_for_member() {
    let shop = Shop::new("members", MEMORY);
    let out = shop.run(&["members", "find", "--id", "m-1001"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Kari Nordmann"), "{}", stdout(&out));
}

#[cfg(all(feature = "dev", feature = "diller"))]
#[test]
fn a_closed_pipe_ends_every_printing_command_quietly() {
    let shop = Shop::new("pipe-dev", MEMORY);
    for args in [
        &["capabilities"][..],
        &["capabilities", "--format", "json"],
        &["form", "--adapter", "memory"],
        &["setup", "diller", "--simulator"],
    ] {
        let mut child = shop.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: exit {:?}: {}", out.status, stderr(&out));
        assert!(stderr(&out).is_empty(), "{args:?}: {}", stderr(&out));
    }
}

/// Every `loyalty` subcommand, from `loyalty --help`.
fn subcommands() -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_loyalty")).arg("--help").output().unwrap();
    let help = stdout(&out);
    let commands = help.split("Commands:").nth(1).expect("a Commands: section");
    commands
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_readme_lists_every_command_and_every_sim_option() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let commands = subcommands();
    assert!(commands.len() >= 8, "{commands:?}");
    for name in &commands {
        assert!(readme.contains(&format!("`loyalty {name}")), "README does not list `loyalty {name}`");
    }
    #[cfg(feature = "dev")]
    {
        let sim_row = readme.lines().find(|l| l.starts_with("| `loyalty sim ")).expect("a sim row");
        let out = Command::new(env!("CARGO_BIN_EXE_loyalty")).args(["sim", "--help"]).output().unwrap();
        for option in stdout(&out).split_whitespace().filter(|w| w.starts_with("--")) {
            let option = option.trim_end_matches(',');
            if option != "--help" && option != "--config" {
                assert!(sim_row.contains(option), "the README's sim row lacks {option}: {sim_row}");
            }
        }
    }
}

#[test]
fn help_texts_name_only_files_in_this_repository() {
    let mut helps = vec![vec!["--help".to_string()]];
    for name in subcommands() {
        helps.push(vec![name.clone(), "--help".into()]);
    }
    helps.push(vec!["member".into(), "find".into(), "--help".into()]);
    helps.push(vec!["member".into(), "register".into(), "--help".into()]);
    let root = workspace_root();
    for args in helps {
        let out = Command::new(env!("CARGO_BIN_EXE_loyalty")).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let help = stdout(&out);
        assert!(!help.contains("loyalty_sim::") && !help.contains("DESIGN"), "{args:?}: {help}");
        for word in help.split_whitespace() {
            let word = word.trim_matches(|c: char| "()[].,;:`'\"".contains(c));
            let is_path = word.contains('/')
                && [".md", ".rs", ".json", ".toml"].iter().any(|e| word.ends_with(e))
                && !word.contains("://");
            if is_path {
                let path = root.join(word.replace("<vendor>", "diller"));
                assert!(path.exists(), "{args:?} names {word}, which is not in this repository");
            }
        }
    }
}

#[cfg(feature = "diller")]
#[test]
fn retry_warnings_stay_out_of_the_one_error_line() {
    // A Diller store on a port nobody listens on: the transport retries, then gives up.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = format!(
        "[provider]\nkind = \"diller\"\nbase_url = \"http://127.0.0.1:{port}\"\nclient_id = \"c\"\n\
         client_secret_env = \"LOYALTY_TEST_DEAD_SECRET\"\nstore_id = \"s\"\n[store]\nurl = \"memory:\"\n"
    );
    let shop = Shop::new("retries", &config);
    let out = shop
        .command(&["member", "find", "--phone", "+4741234567"])
        .env("LOYALTY_TEST_DEAD_SECRET", "x")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    one_error_line(&out);
    // RUST_LOG still shows them.
    let out = shop
        .command(&["member", "find", "--phone", "+4741234567"])
        .env("LOYALTY_TEST_DEAD_SECRET", "x")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(stderr(&out).contains("retrying"), "{}", stderr(&out));
}

#[cfg(feature = "diller")]
#[test]
fn an_empty_secret_variable_is_named() {
    let config = "[provider]\nkind = \"diller\"\nbase_url = \"http://127.0.0.1:1\"\nclient_id = \"c\"\n\
                  client_secret_env = \"LOYALTY_TEST_EMPTY_SECRET\"\nstore_id = \"s\"\n";
    let shop = Shop::new("empty-secret", config);
    let out = shop
        .command(&["member", "find", "--id", "m-1"])
        .env("LOYALTY_TEST_EMPTY_SECRET", "")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let line = one_error_line(&out);
    assert!(line.contains("LOYALTY_TEST_EMPTY_SECRET") && line.contains("loyalty.toml"), "{line}");
}

#[cfg(feature = "diller")]
mod diller {
    //! The same commands against a Diller simulator: only the file changed.
    use super::*;
    use loyalty_sim::diller::{demo, DillerSettings, DillerSim};

    fn config(url: &str) -> String {
        format!(
            "[provider]\nkind = \"diller\"\nbase_url = \"{url}\"\nclient_id = \"{}\"\n\
             client_secret_env = \"LOYALTY_TEST_DILLER_SECRET\"\nstore_id = \"{}\"\ndepartment_id = \"{}\"\n\
             [store]\nurl = \"sqlite:checkouts.db\"\n",
            demo::CLIENT_ID,
            demo::STORE_ID,
            demo::DEPARTMENT_ID
        )
    }

    fn run(shop: &Shop, args: &[&str]) -> Output {
        shop.command(args).env("LOYALTY_TEST_DILLER_SECRET", demo::CLIENT_SECRET).output().unwrap()
    }

    #[test]
    fn find_offers_checkout_and_return_against_the_simulator() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let server = runtime
            .block_on(DillerSim::start(DillerSettings::default(), loyalty_sim::SimClock::default()))
            .unwrap();
        let shop = Shop::new("diller", &config(server.base_url()));

        let out = run(&shop, &["member", "find", "--phone", demo::MEMBER_PHONE]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains(demo::MEMBER_ID), "{}", stdout(&out));

        let out = run(&shop, &["offers", "--member", demo::MEMBER_ID]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains("20 % off coffee"), "{}", stdout(&out));

        let out = run(
            &shop,
            &["checkout", "--basket", "basket.json", "--phone", demo::MEMBER_PHONE, "--order", "D-1"],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains("sent to diller: recorded"), "{}", stdout(&out));

        let out = run(&shop, &["return", "--order", "D-1", "--line", "1:1"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            stdout(&out).contains("cancel_and_resend") || stdout(&out).contains("cancelled"),
            "{}",
            stdout(&out)
        );

        let out = run(&shop, &["pending", "--json"]);
        assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), serde_json::json!([]));
    }
}

/// `loyalty sim <vendor>` on a free port: its printed `loyalty.toml` and `export` lines are all a
/// shop needs; the process is killed when dropped.
struct RunningSim {
    child: std::process::Child,
    config: String,
    secrets: Vec<(String, String)>,
    credentials: Vec<(String, String)>,
}

impl RunningSim {
    fn credential(&self, name: &str) -> String {
        self.credentials.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sim(vendor: &str) -> RunningSim {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(["sim", vendor, "--clock", "real"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("loyalty sim starts");
    let reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let (mut config, mut secrets, mut in_config) = (String::new(), Vec::new(), false);
    let mut credentials = Vec::new();
    for line in reader.lines() {
        let line = line.unwrap();
        if let Some(cred) = line.strip_prefix("  ") {
            if let Some((k, v)) = cred.split_once(char::is_whitespace) {
                credentials.push((k.to_string(), v.trim().to_string()));
            }
        } else if let Some(export) = line.strip_prefix("export ") {
            let (k, v) = export.split_once('=').unwrap();
            // A quoted value is one shell word in single quotes.
            let v = match v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
                Some(quoted) => quoted.replace(r"'\''", "'"),
                None => v.to_string(),
            };
            secrets.push((k.to_string(), v));
        } else if line == "# loyalty.toml:" {
            in_config = true;
        } else if in_config {
            config.push_str(&line);
            config.push('\n');
            if line.starts_with("url = ") {
                break; // the [store] line ends the file
            }
        }
    }
    RunningSim { child, config, secrets, credentials }
}

fn run_with(shop: &Shop, sim: &RunningSim, args: &[&str]) -> Output {
    let mut c = shop.command(args);
    for (k, v) in &sim.secrets {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[cfg(feature = "diller")]
#[test]
fn loyalty_sim_diller_prints_a_config_the_commands_use() {
    let sim = start_sim("diller");
    assert!(
        sim.config.contains("kind = \"diller\"") && sim.config.contains("client_secret_env"),
        "{}",
        sim.config
    );
    assert!(!sim.config.contains("demo-secret"), "no secret inline: {}", sim.config);
    let shop = Shop::new("sim-diller", &sim.config);
    let out = run_with(&shop, &sim, &["member", "find", "--phone", "+4741234567"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_with(
        &shop,
        &sim,
        &["checkout", "--basket", "basket.json", "--phone", "+4741234567", "--order", "S-1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_with(&shop, &sim, &["return", "--order", "S-1", "--line", "1:1"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[cfg(feature = "sessionm")]
#[test]
fn loyalty_sim_sessionm_prints_a_config_the_commands_use() {
    let sim = start_sim("sessionm");
    let shop = Shop::new("sim-sessionm", &sim.config);
    let out = run_with(&shop, &sim, &["member", "find", "--phone", "+4741234567"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = stdout(&out).lines().next().unwrap().split_whitespace().nth(1).unwrap().to_string();
    let out = run_with(&shop, &sim, &["offers", "--member", &id, "--basket", "basket.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out =
        run_with(&shop, &sim, &["checkout", "--basket", "basket.json", "--member", &id, "--order", "S-1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_with(&shop, &sim, &["return", "--order", "S-1", "--line", "1:1"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[cfg(feature = "emanage")]
#[test]
fn loyalty_sim_emanage_prints_a_config_the_commands_use() {
    let sim = start_sim("emanage");
    let shop = Shop::new("sim-emanage", &sim.config);
    let out = run_with(&shop, &sim, &["offers"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Progressive"), "{}", stdout(&out));
}

#[cfg(feature = "idosell")]
#[test]
fn loyalty_sim_idosell_prints_a_config_the_commands_use() {
    let sim = start_sim("idosell");
    let shop = Shop::new("sim-idosell", &sim.config);
    let out = run_with(&shop, &sim, &["member", "find", "--id", &sim.credential("member_id")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_with(
        &shop,
        &sim,
        &["checkout", "--basket", "basket.json", "--member", &sim.credential("member_id"), "--order", "S-1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("sent to idosell"), "{}", stdout(&out));
}

/// `loyalty setup diller` with no `LOYALTY_DILLER_*` variable but those given.
#[cfg(feature = "diller")]
fn setup_diller(vars: &[(String, String)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_loyalty"));
    c.args(["setup", "diller"]);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("LOYALTY_DILLER_")) {
        c.env_remove(k);
    }
    c.envs(vars.iter().cloned()).output().unwrap()
}

#[cfg(feature = "diller")]
#[test]
fn loyalty_setup_diller_works_against_loyalty_sim_diller_from_its_printed_exports() {
    let sim = start_sim("diller");
    // Only what `loyalty sim diller` told the user to export; the store id is the client id.
    let out = setup_diller(&sim.secrets);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("store_id = \"{}\"", sim.credential("client_id"))), "{text}");
}

#[cfg(feature = "diller")]
#[test]
fn loyalty_setup_diller_without_its_variables_is_bad_input_naming_one() {
    let out = setup_diller(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(one_error_line(&out).contains("LOYALTY_DILLER_"), "{}", stderr(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_loyalty")).args(["setup", "acme"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    one_error_line(&out);
}

#[cfg(feature = "diller")]
#[test]
fn loyalty_sim_takes_the_contracts_settings_and_refuses_unknown_ones() {
    let scratch = tempfile::Builder::new().prefix("loyalty-sim-settings-").tempdir().unwrap();
    let dir = scratch.path();
    std::fs::write(dir.join("bad.toml"), "token_expires_in_sec = 60\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(["sim", "diller", "--settings"])
        .arg(dir.join("bad.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("token_expires_in_sec"), "names the key: {}", stderr(&out));
    // A good file starts the simulator with it (checked through the token's lifetime).
    std::fs::write(
        dir.join("good.json"),
        r#"{"token_expires_in_secs": 60, "duplicate_transaction": "accept"}"#,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_loyalty"))
        .args(["sim", "diller", "--control", "--settings"])
        .arg(dir.join("good.json"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    // Keep reading: the simulator ends when its stdout is closed.
    std::thread::spawn(move || lines.for_each(drop));
    let url = first.split_whitespace().find(|w| w.starts_with("http://")).unwrap().to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let token: Value = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/connect/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "demo-client"),
                ("client_secret", "demo-secret-9f8e7d"),
                ("scope", "api.retailer"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(token["expires_in"], 60, "{token}");
}
