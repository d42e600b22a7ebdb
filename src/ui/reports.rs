//! The Reports screen: tabs per report, the range in the facility's time zone, and charts
//! (sparklines for the daily log, bar charts for aging, carriers, pickup time and staff);
//! the Parcels tab (one day's parcels) is drawn by `day`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, Paragraph, Sparkline};

use super::theme::Theme;
use crate::app::model::Model;
use crate::reports::{Cell, Overview, Report, Table};

mod day;

fn tab_title(r: Report) -> &'static str {
    match r {
        Report::Daily => "Daily",
        Report::Aging => "Aging",
        Report::Carriers => "Carriers",
        Report::PickupTime => "Pickup time",
        Report::Staff => "Staff",
        Report::Parcels => "Parcels",
    }
}

fn count(c: Option<&Cell>) -> u64 {
    c.and_then(Cell::count)
        .map_or(0, |n| n.max(0).unsigned_abs())
}

fn text(c: Option<&Cell>) -> String {
    c.map(ToString::to_string).unwrap_or_default()
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

pub fn draw(f: &mut Frame, area: Rect, m: &Model, t: &Theme) {
    let r = &m.reports;
    let [tabs, range, body] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    let mut spans = vec![Span::raw(" ")];
    // Six tabs for an admin: a narrow terminal gets them with tighter separators.
    let sep = if area.width >= 72 { " · " } else { "·" };
    for (i, tab) in r.tabs().into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(sep, t.dim));
        }
        let style = if tab == r.tab { t.selected } else { t.text };
        spans.push(Span::styled(format!(" {} ", tab_title(tab)), style));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), tabs);
    if r.tab == Report::Parcels {
        day::draw(f, range, body, m, t);
        return;
    }
    let Some(o) = &r.data else {
        f.render_widget(
            Paragraph::new(Span::styled(" loading reports…", t.dim)),
            range,
        );
        return;
    };
    let what = if r.tab == Report::Aging {
        " waiting now, by age".to_string()
    } else {
        format!(
            " {} – {} · {} day{} · {}{}",
            o.range.from,
            o.range.to,
            o.range.days(),
            if o.range.days() == 1 { "" } else { "s" },
            o.time_zone,
            if r.loading { " · loading…" } else { "" }
        )
    };
    f.render_widget(Paragraph::new(Span::styled(what, t.dim)), range);
    let Some(table) = o.table(r.tab) else {
        return;
    };
    match r.tab {
        Report::Daily => daily(f, body, o, table, r.daily_cursor, t),
        Report::Aging => bars(f, body, table, " Waiting by age ", Direction::Vertical, t),
        Report::Carriers => bars(
            f,
            body,
            table,
            " Received per carrier ",
            Direction::Horizontal,
            t,
        ),
        Report::PickupTime => pickup_time(f, body, table, t),
        Report::Staff => staff(f, body, table, t),
        Report::Parcels => {}
    }
}

/// Received and picked up per day as sparklines, then the newest days as numbers, one of
/// them selected (Enter lists its parcels).
fn daily(f: &mut Frame, area: Rect, o: &Overview, table: &Table, cursor: usize, t: &Theme) {
    let [rec, pick, rows] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Min(0),
    ])
    .areas(area);
    for (col, name, a) in [(1, "Received", rec), (2, "Picked up", pick)] {
        let data: Vec<u64> = table.rows.iter().map(|r| count(r.get(col))).collect();
        let total: u64 = data.iter().sum();
        let max = data.iter().copied().max().unwrap_or(0);
        let block = Block::default().borders(Borders::ALL).title(format!(
            " {name} · {} in {} days · busiest {} ",
            thousands(total),
            o.range.days(),
            thousands(max)
        ));
        let inner = block.inner(a);
        // The newest days when the range is wider than the screen.
        let shown = super::dashboard::stretch(&data, inner.width);
        f.render_widget(
            Sparkline::default()
                .block(block)
                .data(&shown)
                .style(t.success),
            a,
        );
    }
    let n = usize::from(rows.height).saturating_sub(1);
    let mut lines = vec![Line::from(Span::styled(
        format!(" {:<12}{:>10}{:>11}", "date", "received", "picked up"),
        t.title,
    ))];
    let skip = (cursor + 1).saturating_sub(n);
    lines.extend(
        table
            .rows
            .iter()
            .rev()
            .enumerate()
            .skip(skip)
            .take(n)
            .map(|(i, r)| {
                let style = if i == cursor { t.selected } else { t.text };
                Line::from(Span::styled(
                    format!(
                        " {:<12}{:>10}{:>11}",
                        text(r.first()),
                        thousands(count(r.get(1))),
                        thousands(count(r.get(2)))
                    ),
                    style,
                ))
            }),
    );
    f.render_widget(Paragraph::new(lines), rows);
}

/// A label-count table as a bar chart.
fn bars(f: &mut Frame, area: Rect, table: &Table, title: &str, dir: Direction, t: &Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title.to_string());
    if table.rows.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled("nothing in this range", t.dim)).block(block),
            area,
        );
        return;
    }
    // Horizontal bars carry their number in the label, aligned (ratatui would print it
    // inside the bar, right after labels of different lengths).
    let label_w = table
        .rows
        .iter()
        .map(|r| text(r.first()).chars().count())
        .max()
        .unwrap_or(0);
    let data: Vec<Bar> = table
        .rows
        .iter()
        .map(|r| {
            let n = count(r.get(1));
            let bar = Bar::default().value(n);
            match dir {
                Direction::Vertical => bar
                    .label(Line::from(text(r.first())))
                    .text_value(thousands(n)),
                Direction::Horizontal => bar
                    .label(Line::from(format!(
                        "{:<label_w$} {:>9} ",
                        text(r.first()),
                        thousands(n)
                    )))
                    .text_value(""),
            }
        })
        .collect();
    let inner = block.inner(area);
    let n = data.len().max(1) as u16;
    let chart = BarChart::default()
        .block(block)
        .data(BarGroup::default().bars(&data))
        .direction(dir)
        .bar_style(t.success)
        .value_style(t.selected)
        .label_style(t.text);
    let chart = match dir {
        Direction::Vertical => chart
            .bar_width((inner.width / n).saturating_sub(2).clamp(3, 12))
            .bar_gap(2),
        Direction::Horizontal => chart.bar_width(1).bar_gap(u16::from(inner.height >= n * 2)),
    };
    f.render_widget(chart, area);
}

fn hours(c: Option<&Cell>) -> Option<f64> {
    match c {
        Some(Cell::Hours(h)) => *h,
        _ => None,
    }
}

/// `37.5` hours as `1d 13.5h`.
fn human_hours(h: f64) -> String {
    if h >= 24.0 {
        format!("{}d {:.1}h", (h / 24.0).floor(), h % 24.0)
    } else {
        format!("{h:.1}h")
    }
}

fn pickup_time(f: &mut Frame, area: Rect, table: &Table, t: &Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Time from intake to pickup ");
    let row = table.rows.first();
    let n = count(row.and_then(|r| r.first()));
    let (median, p90) = (
        hours(row.and_then(|r| r.get(1))),
        hours(row.and_then(|r| r.get(2))),
    );
    let (Some(median), Some(p90)) = (median, p90) else {
        f.render_widget(
            Paragraph::new(Span::styled("nothing was picked up in this range", t.dim)).block(block),
            area,
        );
        return;
    };
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [head, chart] = Layout::vertical([Constraint::Length(3), Constraint::Min(0)]).areas(inner);
    f.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled(" Picked up  ", t.title),
                Span::raw(thousands(n)),
            ]),
            Line::from(vec![
                Span::styled(" Median     ", t.title),
                Span::raw(human_hours(median)),
                Span::styled("   half of them waited less", t.dim),
            ]),
            Line::from(vec![
                Span::styled(" 90th pct.  ", t.title),
                Span::raw(human_hours(p90)),
                Span::styled("   nine in ten waited less", t.dim),
            ]),
        ]),
        head,
    );
    // Tenths of hours, so short waits still show a bar.
    let tenth = |h: f64| (h * 10.0).round().max(0.0) as u64;
    let data = [
        Bar::default()
            .label(Line::from(format!(" median {:>10} ", human_hours(median))))
            .value(tenth(median))
            .text_value(""),
        Bar::default()
            .label(Line::from(format!(" p90    {:>10} ", human_hours(p90))))
            .value(tenth(p90))
            .text_value(""),
    ];
    f.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&data))
            .direction(Direction::Horizontal)
            .bar_width(1)
            .bar_gap(1)
            .bar_style(t.success)
            .value_style(t.selected)
            .label_style(t.text),
        chart,
    );
}

fn staff(f: &mut Frame, area: Rect, table: &Table, t: &Theme) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Received / handed over per staff member ");
    if table.rows.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled("nothing in this range", t.dim)).block(block),
            area,
        );
        return;
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    let max = table
        .rows
        .iter()
        .map(|r| count(r.get(1)).max(count(r.get(2))))
        .max()
        .unwrap_or(0)
        .max(1);
    // login, two counts, two bars.
    let bar_w = usize::from(inner.width).saturating_sub(16 + 2 * 9 + 4) / 2;
    let bar = |n: u64| {
        let w = ((n as f64 / max as f64) * bar_w as f64).round() as usize;
        format!("{:<bar_w$}", "█".repeat(w))
    };
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:<16}{:>9} {:<bar_w$} {:>9} {}",
            "login", "received", "", "handed over", ""
        ),
        t.title,
    ))];
    lines.extend(
        table
            .rows
            .iter()
            .take(usize::from(inner.height).saturating_sub(1))
            .map(|r| {
                let (rec, out) = (count(r.get(1)), count(r.get(2)));
                Line::from(vec![
                    Span::raw(format!("{:<16}{:>9} ", text(r.first()), thousands(rec))),
                    Span::styled(bar(rec), t.success),
                    Span::raw(format!(" {:>9} ", thousands(out))),
                    Span::styled(bar(out), t.info),
                ])
            }),
    );
    f.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests;
