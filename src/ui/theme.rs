//! Themes are data: `themes/*.toml`, compiled in. A theme maps every style key the views
//! use to colors and modifiers; monochrome terminals get the mono theme, which uses only
//! bold, reverse and underline, so every state stays visible without color.

use std::collections::BTreeMap;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::term::ColorDepth;

/// The themes shipped with packtrack, by name.
pub const BUILTIN: [(&str, &str); 4] = [
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// Every style key a theme must define.
pub const KEYS: [&str; 14] = [
    "header", "title", "text", "dim", "key", "selected", "field", "cursor", "matched", "info",
    "success", "warning", "error", "overdue",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub name: String,
    pub header: Style,
    pub title: Style,
    pub text: Style,
    pub dim: Style,
    pub key: Style,
    pub selected: Style,
    pub field: Style,
    pub cursor: Style,
    pub matched: Style,
    pub info: Style,
    pub success: Style,
    pub warning: Style,
    pub error: Style,
    pub overdue: Style,
}

#[derive(Deserialize)]
struct File {
    name: String,
    styles: BTreeMap<String, StyleSpec>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    modifiers: Vec<String>,
}

fn color(s: &str) -> Result<Color, String> {
    Color::from_str(s).map_err(|_| format!("unknown color `{s}`"))
}

fn modifier(s: &str) -> Result<Modifier, String> {
    Ok(match s {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" => Modifier::UNDERLINED,
        "reversed" => Modifier::REVERSED,
        other => return Err(format!("unknown modifier `{other}`")),
    })
}

impl StyleSpec {
    fn style(&self) -> Result<Style, String> {
        let mut s = Style::default();
        if let Some(fg) = &self.fg {
            s = s.fg(color(fg)?);
        }
        if let Some(bg) = &self.bg {
            s = s.bg(color(bg)?);
        }
        for m in &self.modifiers {
            s = s.add_modifier(modifier(m)?);
        }
        Ok(s)
    }
}

impl Theme {
    /// Parses a theme file; every key in [`KEYS`] must be present and no other.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(extra) = file.styles.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!("theme {}: unknown style key `{extra}`", file.name));
        }
        let get = |k: &str| -> Result<Style, String> {
            file.styles
                .get(k)
                .ok_or_else(|| format!("theme {}: missing style key `{k}`", file.name))?
                .style()
                .map_err(|e| format!("theme {}: {k}: {e}", file.name))
        };
        Ok(Self {
            header: get("header")?,
            title: get("title")?,
            text: get("text")?,
            dim: get("dim")?,
            key: get("key")?,
            selected: get("selected")?,
            field: get("field")?,
            cursor: get("cursor")?,
            matched: get("matched")?,
            info: get("info")?,
            success: get("success")?,
            warning: get("warning")?,
            error: get("error")?,
            overdue: get("overdue")?,
            name: file.name,
        })
    }

    /// A built-in theme by name.
    pub fn builtin(name: &str) -> Option<Self> {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, text)| Self::parse(text).ok())
    }

    /// The theme for a terminal: mono without colors, the default otherwise.
    pub fn for_depth(depth: ColorDepth) -> Self {
        let name = if depth == ColorDepth::Mono {
            "mono"
        } else {
            "default"
        };
        Self::builtin(name).unwrap_or_else(Self::fallback)
    }

    /// Plain text, should a built-in theme ever fail to parse (a test guards against it).
    fn fallback() -> Self {
        let s = Style::default();
        let r = s.add_modifier(Modifier::REVERSED);
        Self {
            name: "fallback".into(),
            header: r,
            title: s.add_modifier(Modifier::BOLD),
            text: s,
            dim: s,
            key: r,
            selected: r,
            field: s.add_modifier(Modifier::UNDERLINED),
            cursor: r,
            matched: s.add_modifier(Modifier::BOLD),
            info: s,
            success: s,
            warning: s.add_modifier(Modifier::BOLD),
            error: r,
            overdue: s.add_modifier(Modifier::BOLD),
        }
    }
}

#[cfg(test)]
mod tests;
