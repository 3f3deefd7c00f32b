//! IIS W3C extended log lines of the web server.

use crate::engine::{Body, Cx, FileKey};
use crate::time;

pub struct Req<'a> {
    pub method: &'a str,
    pub stem: &'a str,
    pub query: &'a str,
    pub port: u16,
    pub user: &'a str,
    pub client: &'a str,
    pub user_agent: &'a str,
    pub referer: &'a str,
    pub status: u16,
    pub substatus: u16,
    pub win32: u32,
    pub taken_ms: u32,
}

fn dash(s: &str) -> String {
    if s.is_empty() {
        "-".to_string()
    } else {
        s.replace(' ', "+")
    }
}

/// Emit one request line to the web server's log of that day.
pub fn request(cx: &mut Cx, t: i64, step: u16, q: &Req) {
    let web = &cx.w.hosts[cx.w.web];
    let (d, h) = time::iis_date_time(t);
    let line = format!(
        "{d} {h} {} {} {} {} {} {} {} {} {} {} {} {} {}",
        web.ip,
        q.method,
        dash(q.stem),
        dash(q.query),
        q.port,
        dash(q.user),
        q.client,
        dash(q.user_agent),
        dash(q.referer),
        q.status,
        q.substatus,
        q.win32,
        q.taken_ms
    );
    cx.emit(t, FileKey::Iis(time::day_number(t)), step, Body::Line(line));
}
