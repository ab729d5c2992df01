//! Pricing time: `cargo bench -p loyalty-core --bench pricing [-- --csv FILE]`.
//!
//! A plain timing loop (no extra crates). Three groups:
//! - `scaling`: time against basket size, 10 to 100,000 units, with 20 mixed offers;
//! - `slow`: the inputs of issue 17 that were quadratic (zero-rounding coupons, many stamp
//!   cards, many confirmed basket coupons, a coupon listing many products) and many
//!   vendor-priced offers, plus the 1,000-line / 50-offer basket (target: at most 1 ms);
//! - `baskets`: till, web and large baskets.
//!
//! Each figure is the median over 7 rounds of the time per `price` call (a call that takes over
//! a second is timed once). The figures are printed and written as CSV, by default to
//! `pricing-scaling.csv` in the target directory; `examples/pricing_scaling_svg.rs` draws
//! `docs/pricing-scaling.svg` from that file.

use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use loyalty_core::pricing::json::{parse_input, render_output};
use loyalty_core::pricing::price;
use loyalty_core::{Discount, OfferKind, Scope};
use serde_json::{json, Value};

#[path = "../tests/support/pricing_inputs.rs"]
mod inputs;

use inputs::Input;

/// Target for the 1,000-line, 50-offer basket (issue 17).
const TARGET_1000_LINES: Duration = Duration::from_millis(1);

struct Row {
    group: &'static str,
    name: String,
    units: usize,
    lines: usize,
    offers: usize,
    median: Duration,
}

/// Median time of one `price` call over 7 rounds of enough calls to last about 50 ms each.
fn measure(input: &Input) -> Duration {
    let call = || {
        black_box(
            price(black_box(&input.basket), black_box(&input.offers), &input.confirmed, inputs::now())
                .expect("the bench input prices"),
        );
    };
    let start = Instant::now();
    call();
    let first = start.elapsed();
    if first > Duration::from_secs(1) {
        return first;
    }
    let iterations =
        (Duration::from_millis(50).as_nanos() / first.as_nanos().max(1)).clamp(1, 100_000) as u32;
    let mut rounds: Vec<Duration> = (0..7)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                call();
            }
            start.elapsed() / iterations
        })
        .collect();
    rounds.sort();
    rounds[3]
}

fn run(rows: &mut Vec<Row>, group: &'static str, name: &str, input: &Input) {
    let median = measure(input);
    let row = Row {
        group,
        name: name.to_string(),
        units: input.units(),
        lines: input.basket.lines.len(),
        offers: input.offers.len(),
        median,
    };
    println!(
        "{group:<8} {name:<40} {:>7} units {:>6} lines {:>6} offers   median {:>10.1?} per basket",
        row.units, row.lines, row.offers, row.median
    );
    rows.push(row);
}

/// Median time of `loyalty price` less process start: parse the JSON text, price, render.
fn measure_json(text: &str) -> Duration {
    let call = || {
        let request = parse_input(black_box(text)).expect("the bench input parses");
        let priced = request.price().expect("the bench input prices");
        black_box(serde_json::to_string_pretty(&render_output(&priced)).expect("renders"));
    };
    call();
    let iterations = 200;
    let mut rounds: Vec<Duration> = (0..7)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                call();
            }
            start.elapsed() / iterations
        })
        .collect();
    rounds.sort();
    rounds[3]
}

/// `input` in the JSON format of `docs/pricing.md` (coupons, stamp cards and progressive
/// discounts only, as that format has no other offer type).
fn to_json(input: &Input) -> String {
    let lines: Vec<Value> = input
        .basket
        .lines
        .iter()
        .map(|l| {
            json!({ "line_id": l.line_id.as_str(), "product_id": l.product_id.as_str(),
                    "quantity": l.quantity.to_string(), "unit_price": l.unit_price.amount_string() })
        })
        .collect();
    let products =
        |p: &[loyalty_core::ProductId]| p.iter().map(|p| p.as_str().to_string()).collect::<Vec<_>>();
    let offers: Vec<Value> = input
        .offers
        .iter()
        .map(|o| match &o.kind {
            OfferKind::Coupon { discount, scope } => {
                let mut v = json!({ "id": o.id.as_str(), "type": "coupon" });
                match discount {
                    Discount::Percent(p) => v["percent"] = json!(p.to_string()),
                    Discount::Fixed(m) => v["fixed"] = json!(m.amount_string()),
                    Discount::FreeShipping => unreachable!("the bench has no free shipping"),
                }
                if let Scope::Products(p) = scope {
                    v["products"] = json!(products(p));
                }
                v
            }
            OfferKind::StampCard(c) => json!({ "id": o.id.as_str(), "type": "stamp_card",
                "required": c.required, "collected": c.collected, "restartable": c.restartable,
                "products": products(&c.products) }),
            OfferKind::ProgressiveDiscount { tiers, products: p, .. } => json!({ "id": o.id.as_str(),
                "type": "progressive", "products": products(p),
                "tiers": tiers.iter().map(|t| json!({ "min_units": t.min_units, "percent": t.percent.to_string() }))
                    .collect::<Vec<_>>() }),
            _ => unreachable!("the JSON format has no other offer type"),
        })
        .collect();
    let confirmed: Vec<&str> = input.confirmed.iter().map(|c| c.as_str()).collect();
    json!({ "currency": "NOK", "now": "2026-01-15T12:00:00Z", "lines": lines, "offers": offers,
            "confirmed": confirmed })
    .to_string()
}

/// The target directory: the bench runs as `<target>/<profile>/deps/pricing-<hash>`.
fn default_csv() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let target = exe.ancestors().nth(3).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target"));
    target.join("pricing-scaling.csv")
}

/// One row per figure; names hold no comma, so no field is quoted.
fn write_csv(path: &PathBuf, rows: &[Row]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "group,name,units,lines,offers,median_ns")?;
    for r in rows {
        writeln!(out, "{},{},{},{},{},{}", r.group, r.name, r.units, r.lines, r.offers, r.median.as_nanos())?;
    }
    out.flush()
}

fn main() {
    // `cargo bench` passes `--bench`; a filter or other flags of the default harness are ignored.
    let mut args = std::env::args().skip(1);
    let mut csv = default_csv();
    while let Some(arg) = args.next() {
        if arg == "--csv" {
            csv = args.next().map(PathBuf::from).expect("--csv needs a file name");
        }
    }

    let mut rows = Vec::new();
    for units in [10, 30, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000] {
        run(&mut rows, "scaling", &format!("{units} units and 20 offers"), &inputs::scaling(units));
    }

    run(
        &mut rows,
        "slow",
        "1 line and 80 zero-rounding coupons",
        &inputs::zero_rounding_coupons(100_000, 80),
    );
    run(&mut rows, "slow", "50000 stamp cards", &inputs::stamp_cards(50_000));
    run(&mut rows, "slow", "20000 confirmed basket coupons", &inputs::confirmed_basket_coupons(20_000));
    run(&mut rows, "slow", "1 coupon listing 100000 products", &inputs::long_product_list(100_000));
    run(&mut rows, "slow", "20000 confirmed vendor-priced offers", &inputs::vendor_priced(20_000));
    run(&mut rows, "slow", "1000 lines and 50 offers", &inputs::mixed(1_000, 50));
    let thousand = rows.last().map(|r| r.median).unwrap_or_default();
    let verdict = if thousand <= TARGET_1000_LINES { "within" } else { "OVER" };
    println!(
        "         1,000 lines, 50 offers: {thousand:.1?}, {verdict} the target of {TARGET_1000_LINES:?}"
    );
    let input = inputs::mixed(1_000, 50);
    let median = measure_json(&to_json(&input));
    println!("json     {:<40} parse, price and render: median {median:>10.1?}", "1000 lines and 50 offers");
    rows.push(Row {
        group: "json",
        name: "1000 lines and 50 offers".to_string(),
        units: input.units(),
        lines: input.basket.lines.len(),
        offers: input.offers.len(),
        median,
    });

    run(&mut rows, "baskets", "till basket", &inputs::mixed(3, 4));
    run(&mut rows, "baskets", "web basket", &inputs::mixed(20, 12));
    run(&mut rows, "baskets", "large basket", &inputs::mixed(100, 40));

    match write_csv(&csv, &rows) {
        Ok(()) => println!("figures written to {}", csv.display()),
        Err(e) => eprintln!("cannot write {}: {e}", csv.display()),
    }
}
