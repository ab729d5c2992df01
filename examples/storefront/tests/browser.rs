//! The storefront driven in headless Chromium (WebDriver via `chromedriver`), on `loyalty
//! serve` over the memory provider and over the Diller simulator: register, log in, buy with a
//! coupon, see the discount per line on the receipt and the points on "my page"; then a guest
//! checkout whose two consent boxes make the guest a member.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); without them the
//! test fails and says so. A screenshot of each receipt is written to
//! `<target dir>/storefront/receipt-<provider>.png`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use loyalty_core::checkout::MemoryCheckoutStore;
use loyalty_core::{Clock, Provider};
use loyalty_diller::simulated::SimulatedClock;
use loyalty_storefront::{app, StorefrontConfig};
use rust_decimal::Decimal;
use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const API_KEY: &str = "storefront-browser-test-key-0123456789";

type Res<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// `chromedriver` on a free port, killed when dropped.
struct Chromedriver {
    child: Child,
    port: u16,
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn require_browser() {
    let missing: Vec<&str> =
        [CHROMIUM, CHROMEDRIVER].into_iter().filter(|p| !Path::new(p).exists()).collect();
    assert!(
        missing.is_empty(),
        "the storefront browser test needs Debian's `chromium` and `chromium-driver` packages ({} missing): \
         install them with `apt-get install chromium chromium-driver`, as `.ci/run` does",
        missing.join(" and ")
    );
}

async fn start_chromedriver() -> Chromedriver {
    require_browser();
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Chromedriver { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen on port {port} within 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    driver
}

/// Starts a browser session on `profile`, a fresh profile directory.
async fn browser(driver: &Chromedriver, profile: &Path) -> Client {
    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1100,1400",
    ]
    .into_iter()
    .map(str::to_string)
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect::<Vec<_>>();
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
    });
    let Value::Object(caps) = caps else { unreachable!() };
    // chromedriver listens on loopback: plain HTTP, no TLS stack.
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a Chromium session through chromedriver")
}

async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// Where screenshots go: `$CARGO_TARGET_DIR/storefront`, else the workspace's `target/storefront`.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("storefront")
}

/// The bridge's HTTP API in-process over `provider`, for the shop and for the test's own checks.
struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    /// The API over `provider`, pricing and holding on `clock` (the simulator's, so validity
    /// windows are judged at the simulated date the vendor side sees).
    async fn start(provider: Arc<dyn Provider>, clock: Option<Arc<dyn Clock>>) -> Api {
        let mut opened = loyalty_config::Opened::new(provider, Arc::new(MemoryCheckoutStore::new()));
        if let Some(clock) = clock {
            opened = opened.with_clock(clock);
        }
        let router = loyalty_serve::router(opened, serve_settings());
        let addr = serve(router).await;
        Api { base: format!("http://{addr}"), http: reqwest::Client::new() }
    }

    async fn get(&self, path_and_query: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path_and_query}", self.base))
            .bearer_auth(API_KEY)
            .send()
            .await
            .expect("API answers");
        assert!(r.status().is_success(), "GET {path_and_query}: {}", r.status());
        r.json().await.expect("JSON")
    }

    /// The member's points as the API reports them (`None` when the provider has none).
    async fn points(&self, member_id: &str) -> Option<Decimal> {
        let m = self.get(&format!("/v1/members/{member_id}")).await;
        decimal(&m["points"])
    }

    async fn member_id_by_phone(&self, phone: &str) -> String {
        let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("phone", phone).finish();
        let m = self.get(&format!("/v1/members?{q}")).await;
        m["id"].as_str().expect("member id").to_string()
    }
}

fn serve_settings() -> loyalty_serve::ServeSettings {
    loyalty_serve::ServeSettings::new(loyalty_serve::ApiKey::new(API_KEY).expect("a valid key"))
}

fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

/// One provider's run: who registers, who buys as a guest.
struct Run {
    provider: &'static str,
    phone: &'static str,
    email: &'static str,
    guest_phone: &'static str,
    guest_email: &'static str,
}

struct Shop {
    c: Client,
    base: String,
}

impl Shop {
    async fn open(&self, path: &str) -> Res {
        self.c.goto(&format!("{}{path}", self.base)).await?;
        Ok(())
    }

    async fn click(&self, css: &str) -> Res {
        self.c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await?.click().await?;
        Ok(())
    }

    /// Clicks a link or submit button and waits until the next page has loaded (a WebDriver
    /// click may return before a form's navigation starts).
    async fn go(&self, css: &str) -> Res {
        self.c.execute("window.storefrontOldPage = true; return null;", vec![]).await?;
        self.click(css).await?;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let script = "return window.storefrontOldPage === true || document.readyState !== 'complete';";
            // Errors while the page is switching are retried.
            if let Ok(Value::Bool(false)) = self.c.execute(script, vec![]).await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("clicking {css} loaded no new page within 15 s").into());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn fill(&self, css: &str, text: &str) -> Res {
        let e = self.c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await?;
        e.clear().await?;
        e.send_keys(text).await?;
        Ok(())
    }

    async fn text(&self, css: &str) -> Res<String> {
        Ok(self
            .c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await?
            .text()
            .await?)
    }

    async fn texts(&self, css: &str) -> Res<Vec<String>> {
        let mut out = Vec::new();
        for e in self.c.find_all(Locator::Css(css)).await? {
            out.push(e.text().await?);
        }
        Ok(out)
    }

    async fn path(&self) -> Res<String> {
        Ok(self.c.current_url().await?.path().to_string())
    }

    /// Fails with the page's text, so a broken step shows what the shopper saw.
    async fn expect_path(&self, prefix: &str, step: &str) -> Res {
        let path = self.path().await?;
        if !path.starts_with(prefix) {
            let body = self.text("body").await.unwrap_or_default();
            return Err(format!("{step}: expected {prefix}, at {path}; the page says:\n{body}").into());
        }
        Ok(())
    }

    /// Fills the registration form the API described: the profile, every required segment
    /// whatever its kind, and both consents at the bottom.
    async fn register(&self, run: &Run) -> Res {
        self.open("/register").await?;
        self.fill("input[name='first_name']", "Ada").await?;
        self.fill("input[name='last_name']", "Lovelace").await?;
        self.fill("input[name='email']", run.email).await?;
        self.fill("input[name='phone']", run.phone).await?;
        for field in self.c.find_all(Locator::Css(".field[data-required='true']")).await? {
            let name = field.attr("data-name").await?.unwrap_or_default();
            let kind = field.attr("data-kind").await?.unwrap_or_default();
            if ["email", "phone", "consent.membership"].contains(&name.as_str()) {
                continue;
            }
            match kind.as_str() {
                "date" => field.find(Locator::Css("input")).await?.send_keys("1990-05-17").await?,
                "text" => field.find(Locator::Css("input")).await?.send_keys("espresso").await?,
                "single_choice" | "multi_choice" | "checkbox" => {
                    field.find(Locator::Css("input")).await?.click().await?
                }
                other => return Err(format!("required field {name} of unknown kind {other}").into()),
            }
        }
        // The two consents a membership needs sit at the bottom, after every segment.
        let consents = self.texts("#consents").await?.concat();
        assert!(consents.contains("membership terms"), "consents at the bottom: {consents}");
        self.click("#consents input[name='consent.membership']").await?;
        self.click("#consents input[name='consent.order_history']").await?;
        self.go("#register").await?;
        self.expect_path("/me", "register").await
    }

    async fn log_out(&self) -> Res {
        self.go("#logout").await
    }

    async fn log_in(&self, who: &str) -> Res {
        self.open("/login").await?;
        let demo = self.text(".demo").await?;
        assert!(demo.contains("demo"), "the login page says it is a demo: {demo}");
        self.fill("#who", who).await?;
        self.go("#login").await?;
        self.expect_path("/me", "log in").await
    }

    /// Puts coffee and tea in the cart and goes to checkout.
    async fn to_checkout(&self) -> Res {
        for product in ["COF-500", "TEA-100"] {
            self.open("/").await?;
            self.go(&format!("#add-{product}")).await?;
            self.expect_path("/cart", "add to cart").await?;
        }
        self.go("#to-checkout").await?;
        self.expect_path("/checkout", "to checkout").await
    }

    /// Reviews (prepare), buys (commit) and lands on the receipt.
    async fn review_and_buy(&self) -> Res {
        self.go("#review").await?;
        self.expect_path("/checkout/review", "review").await?;
        self.text("#review-total").await?;
        self.go("#buy").await?;
        self.expect_path("/receipt/", "buy").await
    }

    /// The coffee stamp card's progress on "my page" ("1 of 6").
    async fn coffee_stamps(&self) -> Res<(u32, u32)> {
        for card in self.c.find_all(Locator::Css(".stamp-card")).await? {
            if !card.text().await?.to_lowercase().contains("coffee") {
                continue;
            }
            let progress = card.find(Locator::Css(".stamp-progress")).await?.text().await?;
            let (n, m) = progress.split_once(" of ").ok_or_else(|| format!("stamp progress {progress}"))?;
            return Ok((n.parse()?, m.parse()?));
        }
        Err("no coffee stamp card on my page".into())
    }

    async fn screenshot(&self, provider: &str) -> Res<PathBuf> {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("receipt-{provider}.png"));
        std::fs::write(&path, self.c.screenshot().await?)?;
        Ok(path)
    }
}

/// The member's flow and the guest's, on one provider.
async fn shop_on(
    provider: Arc<dyn Provider>,
    clock: Option<Arc<dyn Clock>>,
    run: Run,
    driver: &Chromedriver,
) -> Res {
    let api = Api::start(provider, clock).await;
    let config = StorefrontConfig { api: api.base.parse()?, api_key: API_KEY.into() };
    let shop_addr = serve(app(config)).await;
    // Removed when the run ends, however it ends.
    let profile =
        tempfile::Builder::new().prefix(&format!("storefront-chromium-{}-", run.provider)).tempdir()?;
    let client = browser(driver, profile.path()).await;
    let shop = Shop { c: client.clone(), base: format!("http://{shop_addr}") };
    // In a task of its own, so the browser session is closed even when an assertion fails.
    let flow = tokio::spawn(async move { member_and_guest(&shop, &api, &run).await }).await;
    let _ = client.close().await;
    match flow {
        Ok(result) => result,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

async fn member_and_guest(shop: &Shop, api: &Api, run: &Run) -> Res {
    // Register with the form built from the provider's segments, then log in again.
    shop.register(run).await?;
    let member_id = api.member_id_by_phone(run.phone).await;
    shop.log_out().await?;
    shop.log_in(run.email).await?;
    let before = api.points(&member_id).await;
    let stamps_before = shop.coffee_stamps().await?;
    if let Some(p) = before {
        assert_eq!(
            Decimal::from_str_exact(&shop.text("#points").await?)?,
            p,
            "my page shows the API's points"
        );
    }

    // Coffee and tea: the coffee coupon applies by itself; the basket coupon (code SUMMER10 in
    // both demo stores) waits for a tick and then covers the tea.
    shop.to_checkout().await?;
    let auto = shop.texts("#offers .auto").await?;
    assert!(
        auto.iter().any(|a| a.contains("coffee")),
        "coffee coupon applied by itself on {}: {auto:?}",
        run.provider
    );
    let mut ticked = 0;
    for tick in shop.c.find_all(Locator::Css("#offers input[name='confirmed']")).await? {
        let label = tick.find(Locator::XPath("..")).await?.text().await?;
        if label.contains("SUMMER10") {
            tick.click().await?;
            ticked += 1;
        }
    }
    assert_eq!(ticked, 1, "the basket coupon is offered for a tick on {}", run.provider);
    shop.review_and_buy().await?;

    // The receipt: every line discounted, each discount named by its offer's title.
    let lines = shop.c.find_all(Locator::Css("#receipt tr.line")).await?;
    assert_eq!(lines.len(), 2, "two lines on the receipt on {}", run.provider);
    for line in lines {
        let text = line.text().await?;
        let discounts = line.find_all(Locator::Css(".discount")).await?;
        assert!(!discounts.is_empty(), "a discount on every line on {}: {text}", run.provider);
        assert!(text.contains("% off"), "the discount names its offer on {}: {text}", run.provider);
    }
    let earned = match shop.c.find(Locator::Id("points-earned-value")).await {
        Ok(e) => Some(Decimal::from_str_exact(&e.text().await?)?),
        Err(_) => None,
    };
    let picture = shop.screenshot(run.provider).await?;
    eprintln!("{}: receipt screenshot at {}", run.provider, picture.display());

    // My page: the points went up by what the receipt says, and the API agrees.
    shop.go("#to-me").await?;
    shop.expect_path("/me", "to my page").await?;
    let after = api.points(&member_id).await;
    if let (Some(before), Some(after)) = (before, after) {
        match earned {
            // The provider reports what the sale earned: the balance rose by exactly that.
            Some(earned) => {
                assert!(earned > Decimal::ZERO, "points earned on {}: {earned}", run.provider);
                assert_eq!(after, before + earned, "points on {}: {before} + {earned}", run.provider);
            }
            // It does not (Diller's transaction reply carries no points): the balance rose.
            None => assert!(after > before, "points on {} rose from {before}: {after}", run.provider),
        }
        assert_eq!(
            Decimal::from_str_exact(&shop.text("#points").await?)?,
            after,
            "my page shows the new balance"
        );
    }
    let (collected, required) = shop.coffee_stamps().await?;
    assert_eq!(required, stamps_before.1);
    assert_eq!(collected, stamps_before.0 + 1, "one coffee, one stamp on {}", run.provider);

    // A guest who ticks both consent boxes at checkout becomes a member.
    shop.log_out().await?;
    shop.to_checkout().await?;
    shop.fill("#email", run.guest_email).await?;
    shop.fill("#phone", run.guest_phone).await?;
    shop.click("input[name='consent.membership']").await?;
    shop.click("input[name='consent.order_history']").await?;
    shop.review_and_buy().await?;
    let welcome = shop.text("#signed-up").await?;
    assert!(welcome.contains("you are now a member"), "guest sign-up on {}: {welcome}", run.provider);
    api.member_id_by_phone(run.guest_phone).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopper_registers_buys_with_a_coupon_and_sees_points_on_memory_and_diller() {
    let driver = start_chromedriver().await;
    let started = Instant::now();

    let memory = Arc::new(loyalty_memory::MemoryProvider::demo());
    let run = Run {
        provider: "memory",
        phone: "+4798765432",
        email: "ada@example.com",
        guest_phone: "+4798765433",
        guest_email: "guest@example.com",
    };
    if let Err(e) = shop_on(memory, None, run, &driver).await {
        panic!("memory: {e}");
    }
    eprintln!("memory: {:?}", started.elapsed());

    let (adapter, simulator) = loyalty_diller::simulated::start().await.expect("the Diller simulator starts");
    let clock: Arc<dyn Clock> = Arc::new(SimulatedClock(simulator.handle().clock()));
    let run = Run {
        provider: "diller",
        phone: "+4798765432",
        email: "ada@example.com",
        guest_phone: "+4798765433",
        guest_email: "guest@example.com",
    };
    if let Err(e) = shop_on(Arc::new(adapter), Some(clock), run, &driver).await {
        panic!("diller: {e}");
    }
    eprintln!("memory and diller: {:?}", started.elapsed());
}
