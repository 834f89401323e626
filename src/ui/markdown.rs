//! Lessons rendered for the terminal with termimad; without colour, a plain skin that keeps the
//! text readable and free of escape codes.

use termimad::MadSkin;
use termimad::crossterm::style::Color;

pub fn render(text: &str, width: usize, color: bool) -> String {
    let skin = if color {
        colour_skin()
    } else {
        MadSkin::no_style()
    };
    skin.text(text, Some(width)).to_string()
}

fn colour_skin() -> MadSkin {
    let mut skin = MadSkin::default();
    skin.set_headers_fg(Color::Cyan);
    skin.bold.set_fg(Color::Yellow);
    skin.inline_code.set_fg(Color::Green);
    skin.inline_code.set_bg(Color::Reset);
    skin.code_block.set_fg(Color::Green);
    skin.code_block.set_bg(Color::Reset);
    skin
}
