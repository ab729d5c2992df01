//! Draws `docs/pricing-scaling.svg` from the figures of the pricing bench: a log-log plot of the
//! time to price a basket against its units, with a line of slope 1 (time in proportion to
//! units) to compare with, and the slow inputs of issue 17 as separate points.
//!
//! ```text
//! cargo bench -p loyalty-core --bench pricing
//! cargo run -p loyalty-core --example pricing_scaling_svg [-- CSV [SVG]]
//! ```
//!
//! CSV defaults to `pricing-scaling.csv` in the cargo target directory, where the bench writes
//! it; SVG to `docs/pricing-scaling.svg` in the repository. Plain SVG text, no plotting crate;
//! the same CSV always gives the same file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 300.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;

/// One figure of the bench CSV (`group,name,units,lines,offers,median_ns`).
struct Figure {
    group: String,
    name: String,
    units: f64,
    seconds: f64,
}

fn parse(csv: &str) -> Result<Vec<Figure>, String> {
    let mut rows = csv.lines();
    let header = rows.next().ok_or("the CSV is empty")?;
    if header.trim() != "group,name,units,lines,offers,median_ns" {
        return Err(format!("unexpected header {header:?}"));
    }
    rows.filter(|r| !r.trim().is_empty())
        .enumerate()
        .map(|(i, row)| {
            let fields: Vec<&str> = row.split(',').collect();
            let [group, name, units, _, _, ns] = fields[..] else {
                return Err(format!("row {}: expected 6 fields, found {}", i + 2, fields.len()));
            };
            let number = |s: &str| s.trim().parse::<f64>().map_err(|e| format!("row {}: {s:?}: {e}", i + 2));
            Ok(Figure {
                group: group.to_string(),
                name: name.to_string(),
                units: number(units)?,
                seconds: number(ns)? / 1e9,
            })
        })
        .collect()
}

/// A log10 axis over whole decades covering `values`.
struct Axis {
    low: i32,
    high: i32,
}

impl Axis {
    fn covering(values: impl Iterator<Item = f64>) -> Axis {
        let (mut low, mut high) = (f64::MAX, f64::MIN);
        for v in values.filter(|v| *v > 0.0) {
            low = low.min(v.log10());
            high = high.max(v.log10());
        }
        let low = low.floor() as i32;
        Axis { low, high: (high.ceil() as i32).max(low + 1) }
    }

    /// Where `v` falls, from 0 (low end) to 1 (high end).
    fn at(&self, v: f64) -> f64 {
        (v.log10() - f64::from(self.low)) / f64::from(self.high - self.low)
    }
}

fn units_label(decade: i32) -> String {
    match decade {
        d if d >= 3 => format!("{}k", 10f64.powi(d - 3)),
        d => format!("{}", 10f64.powi(d)),
    }
}

fn time_label(decade: i32) -> String {
    let unit = ["ns", "µs", "ms", "s"];
    let d = decade + 9;
    let (index, rest) = ((d.div_euclid(3)).clamp(0, 3), d - 3 * d.div_euclid(3).clamp(0, 3));
    format!("{} {}", 10f64.powi(rest), unit[index as usize])
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn draw(figures: &[Figure]) -> Result<String, String> {
    let scaling: Vec<&Figure> = figures.iter().filter(|f| f.group == "scaling").collect();
    let slow: Vec<&Figure> = figures.iter().filter(|f| f.group == "slow").collect();
    if scaling.len() < 2 {
        return Err("the CSV has fewer than two figures in the scaling group".to_string());
    }
    let plotted = || scaling.iter().chain(&slow);
    let x_axis = Axis::covering(plotted().map(|f| f.units));
    let y_axis = Axis::covering(plotted().map(|f| f.seconds));
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let x = |units: f64| LEFT + x_axis.at(units) * plot_w;
    let y = |seconds: f64| TOP + (1.0 - y_axis.at(seconds)) * plot_h;

    let mut svg = String::new();
    let w = &mut svg;
    let _ = writeln!(
        w,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(w, r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#);
    let _ = writeln!(
        w,
        r#"<text x="{}" y="22" font-size="15" font-weight="bold">Pricing time against basket size (log-log)</text>"#,
        LEFT
    );
    let _ = writeln!(
        w,
        r##"<text x="{}" y="38" font-size="11" fill="#555">Median time per price call, release build: cargo bench -p loyalty-core --bench pricing</text>"##,
        LEFT
    );
    for d in x_axis.low..=x_axis.high {
        let px = x(10f64.powi(d));
        let _ = writeln!(
            w,
            r##"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{:.1}" stroke="#ddd"/>"##,
            TOP + plot_h
        );
        let _ = writeln!(
            w,
            r#"<text x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            TOP + plot_h + 18.0,
            units_label(d)
        );
    }
    for d in y_axis.low..=y_axis.high {
        let py = y(10f64.powi(d));
        let _ = writeln!(
            w,
            r##"<line x1="{LEFT}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="#ddd"/>"##,
            LEFT + plot_w
        );
        let _ = writeln!(
            w,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 8.0,
            py + 4.0,
            escape(&time_label(d))
        );
    }
    let _ = writeln!(
        w,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#444"/>"##
    );
    let _ = writeln!(
        w,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">units in the basket</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 16.0
    );
    let _ = writeln!(
        w,
        r#"<text x="18" y="{:.1}" text-anchor="middle" transform="rotate(-90 18 {:.1})">median time per basket</text>"#,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0
    );

    // Slope 1 through the largest basket: where the series would lie if time grew exactly
    // in proportion to units.
    let last = scaling.iter().max_by(|a, b| a.units.total_cmp(&b.units)).expect("two figures");
    let first_units = scaling.iter().map(|f| f.units).fold(f64::MAX, f64::min);
    let reference = last.seconds * first_units / last.units;
    let _ = writeln!(
        w,
        r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="6 4"/>"##,
        x(first_units),
        y(reference),
        x(last.units),
        y(last.seconds)
    );

    let mut sorted = scaling.clone();
    sorted.sort_by(|a, b| a.units.total_cmp(&b.units));
    let points: Vec<String> =
        sorted.iter().map(|f| format!("{:.1},{:.1}", x(f.units), y(f.seconds))).collect();
    let _ = writeln!(
        w,
        r##"<polyline points="{}" fill="none" stroke="#1f5fa8" stroke-width="2"/>"##,
        points.join(" ")
    );
    for f in &sorted {
        let _ = writeln!(
            w,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="#1f5fa8"><title>{}: {:.1} µs</title></circle>"##,
            x(f.units),
            y(f.seconds),
            escape(&f.name),
            f.seconds * 1e6
        );
    }
    for (i, f) in slow.iter().enumerate() {
        let (px, py) = (x(f.units), y(f.seconds));
        let _ = writeln!(
            w,
            r##"<path d="M{px:.1},{:.1} L{:.1},{py:.1} L{px:.1},{:.1} L{:.1},{py:.1} Z" fill="#d9822b"><title>{}: {:.1} µs</title></path>"##,
            py - 5.0,
            px + 5.0,
            py + 5.0,
            px - 5.0,
            escape(&f.name),
            f.seconds * 1e6
        );
        // Alternate labels above and below, so neighbouring points keep theirs apart.
        let dy = if i % 2 == 0 { -4.0 } else { 12.0 };
        let _ =
            writeln!(w, r#"<text x="{:.1}" y="{:.1}" font-size="10">{}</text>"#, px + 6.0, py + dy, i + 1);
    }

    // Legend, right of the plot.
    let lx = LEFT + plot_w + 16.0;
    let _ = writeln!(
        w,
        r##"<line x1="{lx}" y1="{}" x2="{}" y2="{}" stroke="#1f5fa8" stroke-width="2"/>"##,
        TOP + 10.0,
        lx + 20.0,
        TOP + 10.0
    );
    let _ = writeln!(w, r#"<text x="{}" y="{}">20 mixed offers</text>"#, lx + 26.0, TOP + 14.0);
    let _ = writeln!(
        w,
        r##"<line x1="{lx}" y1="{}" x2="{}" y2="{}" stroke="#999" stroke-dasharray="6 4"/>"##,
        TOP + 30.0,
        lx + 20.0,
        TOP + 30.0
    );
    let _ = writeln!(w, r#"<text x="{}" y="{}">time in proportion to units</text>"#, lx + 26.0, TOP + 34.0);
    if !slow.is_empty() {
        let _ = writeln!(w, r#"<text x="{lx}" y="{}">other inputs:</text>"#, TOP + 60.0);
        for (i, f) in slow.iter().enumerate() {
            let ty = TOP + 78.0 + 16.0 * i as f64;
            let _ = writeln!(
                w,
                r##"<text x="{lx}" y="{ty}" font-size="10"><tspan fill="#d9822b">◆ {}</tspan> {}, {}</text>"##,
                i + 1,
                escape(&f.name),
                escape(&duration(f.seconds))
            );
        }
    }
    let _ = writeln!(w, "</svg>");
    Ok(svg)
}

fn duration(seconds: f64) -> String {
    match seconds {
        s if s >= 1.0 => format!("{s:.2} s"),
        s if s >= 1e-3 => format!("{:.1} ms", s * 1e3),
        s => format!("{:.0} µs", s * 1e6),
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    // This runs as `<target>/<profile>/examples/pricing_scaling_svg`, like the bench in `deps`.
    let target = std::env::current_exe().ok().and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf));
    let csv = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| target.unwrap_or_else(|| PathBuf::from("target")).join("pricing-scaling.csv"));
    let svg = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/pricing-scaling.svg"));
    let (csv, svg) = (csv.display().to_string(), svg.display().to_string());
    let result = std::fs::read_to_string(&csv)
        .map_err(|e| format!("cannot read {csv}: {e} (run the pricing bench first)"))
        .and_then(|text| parse(&text))
        .and_then(|figures| draw(&figures))
        .and_then(|text| std::fs::write(&svg, text).map_err(|e| format!("cannot write {svg}: {e}")));
    match result {
        Ok(()) => {
            println!("wrote {svg} from {csv}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
