//! The report's two plots, drawn by plotters into SVG from the journal:
//! requests per second by status, and p50/p99 latency (log scale). Both
//! shade the fault windows, mark the method's start and end and the
//! platform's restarts, and place every activity as a marker (hypothesis
//! probes green when within tolerance, red when not).

use plotters::coord::Shift;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::journal::ChaoslabJournal;

/// Plot size in pixels.
const SIZE: (u32, u32) = (1000, 340);
/// Fault shading.
const FAULT: RGBAColor = RGBAColor(214, 39, 40, 0.12);
const HELD: RGBColor = RGBColor(44, 160, 44);
const BROKEN: RGBColor = RGBColor(214, 39, 40);
const ACTION: RGBColor = RGBColor(31, 119, 180);
const NEUTRAL: RGBColor = RGBColor(120, 120, 120);

/// The colour of an outcome key (`"200"`, `"503"`, `"timeout"`…).
fn status_color(key: &str) -> RGBColor {
    match key.parse::<u16>() {
        Ok(s) if s < 300 => HELD,
        Ok(s) if s < 400 => ACTION,
        Ok(s) if s < 500 => RGBColor(255, 127, 14),
        Ok(_) => BROKEN,
        Err(_) if key == "timeout" => RGBColor(148, 103, 189),
        Err(_) if key == "dropped" => RGBColor(140, 86, 75),
        Err(_) => RGBColor(0, 0, 0),
    }
}

type Result<T> = std::result::Result<T, String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// The x range: the whole run.
fn x_end(j: &ChaoslabJournal) -> f64 {
    j.timeline.end_s.max(1.0)
}

/// Requests per second by status, as an SVG document.
pub fn throughput(j: &ChaoslabJournal) -> Result<String> {
    let series = j.load.as_ref().map(|l| l.series.as_slice()).unwrap_or_default();
    let mut keys: Vec<&String> = series.iter().flat_map(|s| s.summary.by_status.keys()).collect();
    keys.sort();
    keys.dedup();
    // Headroom above the data: markers just above it, the legend in the top third.
    let y_max = series.iter().flat_map(|s| s.summary.by_status.values()).copied().max().unwrap_or(1) as f64 * 2.0;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = chart(&root, "requests per second by status", 0.0..x_end(j), 0.0..y_max.max(1.0))?;
        chart
            .configure_mesh()
            .x_desc("seconds since the start")
            .y_desc("requests / s")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        decorate(&mut chart, j, 0.0, y_max.max(1.0))?;
        for key in keys {
            let color = status_color(key);
            let points = series.iter().map(|s| (s.t + 0.5, *s.summary.by_status.get(key).unwrap_or(&0) as f64));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(err)?
                .label(key.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
        }
        legend(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// p50 and p99 latency per second (log scale), as an SVG document.
pub fn latency(j: &ChaoslabJournal) -> Result<String> {
    let series = j.load.as_ref().map(|l| l.series.as_slice()).unwrap_or_default();
    // Two decades of headroom (log scale): markers just above the data, the legend above them.
    let y_max = series.iter().filter_map(|s| s.summary.max_ms).fold(1.0_f64, f64::max) * 100.0;
    let y_min = series.iter().filter_map(|s| s.summary.p50_ms).fold(f64::INFINITY, f64::min).clamp(0.01, 1.0) / 2.0;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = chart(
            &root,
            "latency from the scheduled send time (ms, log scale)",
            0.0..x_end(j),
            (y_min..y_max).log_scale(),
        )?;
        chart.configure_mesh().x_desc("seconds since the start").y_desc("ms").draw().map_err(err)?;
        decorate(&mut chart, j, y_min, y_max)?;
        type Pick = fn(&crate::load::stats::Summary) -> Option<f64>;
        let lines: [(&str, RGBColor, Pick); 2] = [("p50", ACTION, |s| s.p50_ms), ("p99", BROKEN, |s| s.p99_ms)];
        for (name, color, value) in lines {
            let points = series.iter().filter_map(|s| value(&s.summary).map(|v| (s.t + 0.5, v.max(y_min))));
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
        }
        legend(&mut chart)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

fn chart<'a, 'b, Y: Ranged<ValueType = f64>>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    caption: &str,
    x: std::ops::Range<f64>,
    y: impl plotters::coord::ranged1d::AsRangedCoord<CoordDescType = Y, Value = f64>,
) -> Result<ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Y>>> {
    ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x, y)
        .map_err(err)
}

type Chart<'a, 'b, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Y>>;

/// Fault windows, method bounds, restarts and activity markers.
fn decorate<'a, 'b: 'a, Y: Ranged<ValueType = f64>>(
    chart: &mut Chart<'a, 'b, Y>,
    j: &ChaoslabJournal,
    lo: f64,
    hi: f64,
) -> Result<()> {
    let end = x_end(j);
    let mut first = true;
    for w in &j.faults {
        let (x0, x1) = (w.start_s.max(0.0), w.end_s.unwrap_or(end).min(end));
        let series =
            chart.draw_series(std::iter::once(Rectangle::new([(x0, lo), (x1, hi)], FAULT.filled()))).map_err(err)?;
        if first {
            series.label("fault window").legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], FAULT.filled()));
            first = false;
        }
    }
    let bounds = [j.timeline.method_start_s, j.timeline.method_end_s].into_iter().flatten();
    let lines = bounds.map(|x| PathElement::new(vec![(x, lo), (x, hi)], NEUTRAL.stroke_width(1)));
    chart.draw_series(lines).map_err(err)?;
    let restarts = j.platform.iter().flat_map(|p| p.restarts.iter()).map(|r| r.detected_s);
    let series = chart
        .draw_series(restarts.map(|x| PathElement::new(vec![(x, lo), (x, hi)], BROKEN.stroke_width(2))))
        .map_err(err)?;
    if j.platform.as_ref().is_some_and(|p| !p.restarts.is_empty()) {
        series
            .label("restart (liveness probe)")
            .legend(|(x, y)| PathElement::new(vec![(x + 8, y - 6), (x + 8, y + 6)], BROKEN.stroke_width(2)));
    }
    // Markers along the top: probes as circles, actions as triangles below them.
    // (Just above the data: see the headroom of each plot.)
    let (top, lower) = if lo > 0.0 { (hi / 25.0, hi / 45.0) } else { (hi * 0.6, hi * 0.55) };
    let color = |m: &crate::journal::Mark| match (m.tolerance_met, m.part.as_str()) {
        (Some(true), _) => HELD,
        (Some(false), _) => BROKEN,
        (None, "rollback") => NEUTRAL,
        (None, _) => ACTION,
    };
    let probes = j.activities.iter().filter(|m| m.kind == "probe");
    chart
        .draw_series(probes.map(|m| Circle::new((m.start_s, top), 5, color(m).filled())))
        .map_err(err)?
        .label("probe (green/red: hypothesis met/not; blue: method)")
        .legend(|(x, y)| Circle::new((x + 8, y), 5, HELD.filled()));
    let actions = j.activities.iter().filter(|m| m.kind == "action");
    chart
        .draw_series(actions.map(|m| TriangleMarker::new((m.start_s, lower), 6, color(m).filled())))
        .map_err(err)?
        .label("action (blue: method, grey: rollback)")
        .legend(|(x, y)| TriangleMarker::new((x + 8, y), 6, ACTION.filled()));
    Ok(())
}

fn legend<'a, 'b: 'a, Y: Ranged<ValueType = f64>>(chart: &mut Chart<'a, 'b, Y>) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(NEUTRAL)
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(err)
}
