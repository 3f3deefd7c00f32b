//! The Windows event field model, shared by the EVTX reader and the JSON reader.
//!
//! A Windows event, as the `evtx` crate (and `evtx_dump`) renders it to JSON:
//!
//! ```text
//! {"Event": {"System": {"Provider": {"#attributes": {"Name": .., "Guid": ..}},
//!                       "EventID": 7 | {"#attributes": {"Qualifiers": ..}, "#text": 7045},
//!                       "TimeCreated": {"#attributes": {"SystemTime": ..}}, "Channel": .., ...},
//!            "EventData": {"Image": .., "Logon Type": .., "Data": {"#text": [..]}},
//!            "UserData": {"LogFileCleared": {"SubjectUserName": .., ...}}}}
//! ```
//!
//! becomes flat fields named as Sigma names them:
//! - System: `EventID` (always an Int), `Version`, `Level`, `Task`, `Opcode`, `Keywords`,
//!   `EventRecordID`, `Channel`, `Computer`, `Provider_Name`, `Provider_Guid`,
//!   `EventSourceName`, `Qualifiers`, `SystemTime` and `TimeCreated` (the time as text),
//!   `ActivityID`, `RelatedActivityID`; then, after the event's data, `ProcessID` and `ThreadID`
//!   (from `Execution`) and `UserID` (from `Security`).
//! - EventData: each named `Data` by its name with spaces stripped (`Logon Type` ->
//!   `LogonType`); unnamed `Data` -> `Data` (a List when there are several); `Binary` ->
//!   `Binary`; `#attributes` dropped.
//! - UserData: the children of its element by name, deeper levels dotted
//!   (`UserData.LogFileCleared.SubjectUserName` -> `SubjectUserName`,
//!   `...AdditionalInfo.Action` -> `AdditionalInfo.Action`); attributes of nested elements
//!   as `Element.attribute`; `xmlns` dropped.
//! - RenderingInfo (forwarded events): `RenderingInfo.Message`, ... and `Message`.
//!
//! When an event's data has a field named like a System field (`Channel` in `UserData` of a
//! log-cleared event, `ProcessId` in Sysmon's `EventData`), the first one keeps the plain name
//! and the other one gets its section as a prefix: `UserData.Channel`, `System.ProcessID`.
//! System's identity fields come first; `ProcessID`/`ThreadID`/`UserID` come after the data,
//! because the event's own `ProcessId` is the one rules mean.
//!
//! Values are kept as they came: strings stay strings, numbers stay numbers; only `EventID`
//! is made an Int.

use crate::node::{get, Node, Obj};
use dragnet_event::{Event, Timestamp, Value};
use std::borrow::Cow;

/// Names of System fields that data fields must not shadow.
const SYSTEM_NAMES: &[&str] = &[
    "EventID",
    "Qualifiers",
    "Version",
    "Level",
    "Task",
    "Opcode",
    "Keywords",
    "EventRecordID",
    "Channel",
    "Computer",
    "Provider_Name",
    "Provider_Guid",
    "EventSourceName",
    "SystemTime",
    "TimeCreated",
    "ActivityID",
    "RelatedActivityID",
];

/// Fill `ev` from the object under `"Event"` of an EVTX record rendered as JSON (or of an
/// evtx_dump-style JSON record): fields, `time` (SystemTime) and `host` (Computer).
pub(crate) fn normalize_event(event: &Obj<'_>, ev: &mut Event) {
    let mut late: Vec<(&'static str, Value)> = Vec::new();
    if let Some(Node::Object(system)) = get(event, "System") {
        system_fields(system, ev, &mut late);
    }
    for (section, value) in event {
        match &**section {
            "System" | "#attributes" => {}
            "EventData" => event_data(value, ev),
            "UserData" => user_data(value, ev),
            _ if section.ends_with("_attributes") => {}
            _ => other_section(section, value, ev),
        }
    }
    add_late_fields(ev, late);
}

/// Add fields that yield to the event's own data: the plain name when free, else `System.NAME`.
pub(crate) fn add_late_fields(ev: &mut Event, late: Vec<(&'static str, Value)>) {
    for (name, value) in late {
        if ev.has(name) {
            ev.push(format!("System.{name}"), value);
        } else {
            ev.push(name, value);
        }
    }
}

fn system_fields(system: &Obj<'_>, ev: &mut Event, late: &mut Vec<(&'static str, Value)>) {
    for (element, value) in system {
        if let Some(base) = element.strip_suffix("_attributes") {
            // `separate_json_attributes` rendering: `"Provider_attributes": {"Name": ..}`.
            if let Node::Object(attrs) = value {
                for (attr, v) in attrs {
                    system_attribute(base, attr, v, ev, late);
                }
            }
            continue;
        }
        match value {
            Node::Object(obj) => {
                if let Some(Node::Object(attrs)) = get(obj, "#attributes") {
                    for (attr, v) in attrs {
                        system_attribute(element, attr, v, ev, late);
                    }
                }
                if let Some(text) = get(obj, "#text") {
                    system_text(element, text, ev);
                }
            }
            other => system_text(element, other, ev),
        }
    }
}

/// The text content of a System element.
fn system_text(element: &str, value: &Node<'_>, ev: &mut Event) {
    match element {
        "EventID" => ev.push("EventID", event_id_value(value)),
        "Provider" | "TimeCreated" | "Correlation" | "Execution" | "Security" => {}
        "Computer" => {
            if let Node::Str(s) = value {
                ev.host = (**s).into();
            }
            ev.push("Computer", value.to_value());
        }
        _ => {
            if !value.is_null() {
                ev.push(&*strip_spaces(element), value.to_value());
            }
        }
    }
}

/// An attribute of a System element.
fn system_attribute(
    element: &str,
    attr: &str,
    value: &Node<'_>,
    ev: &mut Event,
    late: &mut Vec<(&'static str, Value)>,
) {
    match (element, attr) {
        ("Provider", "Name") => ev.push("Provider_Name", value.to_value()),
        ("Provider", "Guid") => ev.push("Provider_Guid", value.to_value()),
        ("Provider", "EventSourceName") => ev.push("EventSourceName", value.to_value()),
        ("EventID", "Qualifiers") => ev.push("Qualifiers", value.to_value()),
        ("TimeCreated", "SystemTime") => {
            if let Node::Str(s) = value {
                if let Some(t) = Timestamp::parse(s) {
                    ev.time = t;
                }
            }
            let v = value.to_value();
            ev.push("SystemTime", v.clone());
            ev.push("TimeCreated", v);
        }
        ("Correlation", "ActivityID") => ev.push("ActivityID", value.to_value()),
        ("Correlation", "RelatedActivityID") => ev.push("RelatedActivityID", value.to_value()),
        // The specification's `Element_Attribute` names, plus the short ones.
        ("Execution", "ProcessID") => {
            ev.push("Execution_ProcessID", value.to_value());
            late.push(("ProcessID", value.to_value()));
        }
        ("Execution", "ThreadID") => {
            ev.push("Execution_ThreadID", value.to_value());
            late.push(("ThreadID", value.to_value()));
        }
        ("Security", "UserID") => {
            ev.push("Security_UserID", value.to_value());
            late.push(("UserID", value.to_value()));
        }
        _ => {}
    }
}

/// `EventID` as an Int: from a number, or text holding one; other text is kept as it is.
pub(crate) fn event_id_value(value: &Node<'_>) -> Value {
    let value = match value {
        Node::Object(obj) => get(obj, "#text").unwrap_or(&Node::Null),
        other => other,
    };
    let v = value.to_value();
    match v.as_i64() {
        Some(i) => Value::Int(i),
        None => v,
    }
}

/// `EventData`: named Data by name, unnamed Data as `Data`.
fn event_data(value: &Node<'_>, ev: &mut Event) {
    let obj = match value {
        Node::Object(obj) => obj,
        Node::Null => return,
        // Text directly in EventData.
        other => return push_data_field(ev, "EventData", "Data", other.to_value()),
    };
    let mut unnamed: Vec<Value> = Vec::new();
    for (name, v) in obj {
        if name == "#attributes" || (name.ends_with("_attributes") && v.is_object()) {
            continue;
        }
        if name == "Data" || name == "#text" {
            collect_data(v, ev, &mut unnamed);
            continue;
        }
        named_data(ev, "EventData", &strip_spaces(name), v);
    }
    match unnamed.len() {
        0 => {}
        1 => push_data_field(
            ev,
            "EventData",
            "Data",
            unnamed.pop().unwrap_or(Value::Null),
        ),
        _ => push_data_field(ev, "EventData", "Data", Value::List(unnamed)),
    }
}

/// A named data element's value: text, a list of texts, or nested elements (dotted names).
fn named_data(ev: &mut Event, section: &str, name: &str, v: &Node<'_>) {
    match v {
        Node::Object(inner) => {
            if let Some(text) = get(inner, "#text") {
                push_data_field(ev, section, name, text.to_value());
            } else {
                let mut path = name.to_string();
                flatten_element(ev, section, &mut path, v);
            }
        }
        other => push_data_field(ev, section, name, other.to_value()),
    }
}

/// The forms unnamed (or converter-named) `Data` takes: text, `{"#text": text | [texts]}`, a
/// list of those, or `{"#attributes": {"Name": n}, "#text": t}` (named after all).
fn collect_data(v: &Node<'_>, ev: &mut Event, unnamed: &mut Vec<Value>) {
    match v {
        Node::Null => {}
        Node::Array(items) => {
            for item in items {
                collect_data(item, ev, unnamed);
            }
        }
        Node::Object(obj) => {
            let name = get(obj, "#attributes")
                .and_then(|a| a.get("Name"))
                .and_then(Node::as_str);
            let text = get(obj, "#text");
            match (name, text) {
                (Some(name), text) => {
                    let value = text.map(Node::to_value).unwrap_or(Value::Null);
                    push_data_field(ev, "EventData", &strip_spaces(name), value);
                }
                (None, Some(Node::Array(texts))) => {
                    unnamed.extend(texts.iter().map(Node::to_value));
                }
                (None, Some(text)) => unnamed.push(text.to_value()),
                (None, None) => {}
            }
        }
        scalar => unnamed.push(scalar.to_value()),
    }
}

/// `UserData`: the children of its element(s) by name, deeper levels dotted.
fn user_data(value: &Node<'_>, ev: &mut Event) {
    let Node::Object(obj) = value else {
        if !value.is_null() {
            push_data_field(ev, "UserData", "UserData", value.to_value());
        }
        return;
    };
    for (element, inner) in obj {
        if element == "#attributes" || element.ends_with("_attributes") {
            continue;
        }
        match inner {
            Node::Object(children) => {
                let mut path = String::new();
                for (child, v) in children {
                    match &**child {
                        "#attributes" => {
                            if let Node::Object(attrs) = v {
                                for (attr, av) in attrs {
                                    if !is_xmlns(attr) {
                                        push_data_field(ev, "UserData", attr, av.to_value());
                                    }
                                }
                            }
                        }
                        "#text" => push_data_field(ev, "UserData", element, v.to_value()),
                        _ => {
                            path.clear();
                            path.push_str(&strip_spaces(child));
                            if let Some(base) = child.strip_suffix("_attributes") {
                                flatten_attributes(ev, "UserData", base, v);
                            } else {
                                flatten_element(ev, "UserData", &mut path, v);
                            }
                        }
                    }
                }
            }
            Node::Null => {}
            other => push_data_field(ev, "UserData", &strip_spaces(element), other.to_value()),
        }
    }
}

/// `RenderingInfo`, `ProcessingErrorData` and the like: dotted under their own name.
fn other_section(section: &str, value: &Node<'_>, ev: &mut Event) {
    let mut path = strip_spaces(section).into_owned();
    flatten_element(ev, section, &mut path, value);
    if section == "RenderingInfo" {
        if let Some(Node::Str(message)) = value.get("Message") {
            ev.set_if_absent("Message", Value::str(&**message));
        }
    }
}

/// Flatten an XML element rendered as JSON, named `path`: its text under `path`, its
/// attributes as `path.attribute`, its children as `path.child`.
fn flatten_element(ev: &mut Event, section: &str, path: &mut String, v: &Node<'_>) {
    match v {
        Node::Object(obj) => {
            for (k, child) in obj {
                match &**k {
                    "#text" => push_data_field(ev, section, path, child.to_value()),
                    "#attributes" => flatten_attributes(ev, section, &path.clone(), child),
                    _ => {
                        if let Some(base) = k.strip_suffix("_attributes") {
                            if child.is_object() {
                                let full = join(path, base);
                                flatten_attributes(ev, section, &full, child);
                                continue;
                            }
                        }
                        let len = path.len();
                        if !path.is_empty() {
                            path.push('.');
                        }
                        push_stripped(path, k);
                        flatten_element(ev, section, path, child);
                        path.truncate(len);
                    }
                }
            }
        }
        Node::Null if path.is_empty() => {}
        other => {
            if !path.is_empty() {
                push_data_field(ev, section, path, other.to_value());
            }
        }
    }
}

fn flatten_attributes(ev: &mut Event, section: &str, element: &str, attrs: &Node<'_>) {
    if let Node::Object(attrs) = attrs {
        for (attr, v) in attrs {
            if !is_xmlns(attr) {
                push_data_field(ev, section, &join(element, attr), v.to_value());
            }
        }
    }
}

fn join(a: &str, b: &str) -> String {
    let mut s = String::with_capacity(a.len() + b.len() + 1);
    s.push_str(a);
    if !a.is_empty() {
        s.push('.');
    }
    push_stripped(&mut s, b);
    s
}

fn is_xmlns(attr: &str) -> bool {
    attr == "xmlns" || attr.starts_with("xmlns:")
}

/// Push a field of the event's data. A name that a System field already holds goes under
/// `SECTION.NAME` instead, so that lookups of System fields stay unambiguous.
pub(crate) fn push_data_field(ev: &mut Event, section: &str, name: &str, value: Value) {
    if name.is_empty() {
        return;
    }
    let shadows = SYSTEM_NAMES
        .iter()
        .any(|s| s.len() == name.len() && s.eq_ignore_ascii_case(name));
    if shadows && ev.has(name) {
        ev.push(format!("{section}.{name}"), value);
    } else {
        ev.push(name, value);
    }
}

/// A Data name as a field name: spaces stripped (`Logon Type` -> `LogonType`).
pub(crate) fn strip_spaces(name: &str) -> Cow<'_, str> {
    if name.contains(' ') {
        Cow::Owned(name.chars().filter(|&c| c != ' ').collect())
    } else {
        Cow::Borrowed(name)
    }
}

fn push_stripped(out: &mut String, name: &str) {
    out.extend(name.chars().filter(|&c| c != ' '));
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_event::{Provenance, SourceFormat};
    use serde_json::json;

    fn ev_from(v: serde_json::Value) -> Event {
        let mut ev = Event::new(Provenance {
            path: "t.evtx".into(),
            record: 1,
            format: SourceFormat::Evtx,
        });
        let text = v.to_string();
        let node = Node::parse(text.as_bytes()).unwrap();
        normalize_event(node.get("Event").unwrap().as_object().unwrap(), &mut ev);
        ev
    }

    fn text(ev: &Event, name: &str) -> Option<String> {
        ev.get_text(name).map(|t| t.into_owned())
    }

    #[test]
    fn system_fields_and_named_data() {
        let ev = ev_from(json!({"Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing",
                                             "Guid": "{54849625-5478-4994-A5BA-3E3B0328C30D}"}},
                "EventID": 4624, "Version": 2, "Level": 0, "Task": 12544, "Opcode": 0,
                "Keywords": "0x8020000000000000",
                "TimeCreated": {"#attributes": {"SystemTime": "2021-03-04T05:06:07.1234567Z"}},
                "EventRecordID": 991,
                "Correlation": {"#attributes": {"ActivityID": "{AAAA}"}},
                "Execution": {"#attributes": {"ProcessID": 636, "ThreadID": 700}},
                "Channel": "Security", "Computer": "DC01.corp.local", "Security": null
            },
            "EventData": {"TargetUserName": "bob", "Logon Type": 3, "IpAddress": "10.0.0.5",
                          "Product Name": "Microsoft Defender Antivirus"}
        }}));
        assert_eq!(ev.get("EventID"), Some(&Value::Int(4624)));
        assert_eq!(
            text(&ev, "Provider_Name").unwrap(),
            "Microsoft-Windows-Security-Auditing"
        );
        assert_eq!(
            text(&ev, "Provider_Guid").unwrap(),
            "{54849625-5478-4994-A5BA-3E3B0328C30D}"
        );
        assert_eq!(text(&ev, "Channel").unwrap(), "Security");
        assert_eq!(text(&ev, "Computer").unwrap(), "DC01.corp.local");
        assert_eq!(&*ev.host, "DC01.corp.local");
        assert_eq!(text(&ev, "ProcessID").unwrap(), "636");
        assert_eq!(text(&ev, "ThreadID").unwrap(), "700");
        assert_eq!(text(&ev, "ActivityID").unwrap(), "{AAAA}");
        assert_eq!(text(&ev, "Keywords").unwrap(), "0x8020000000000000");
        assert_eq!(
            text(&ev, "SystemTime").unwrap(),
            "2021-03-04T05:06:07.1234567Z"
        );
        assert_eq!(
            ev.time,
            Timestamp::parse("2021-03-04T05:06:07.1234567Z").unwrap()
        );
        assert_eq!(ev.get("LogonType"), Some(&Value::Int(3)));
        assert!(ev.get("Logon Type").is_none());
        assert_eq!(
            text(&ev, "ProductName").unwrap(),
            "Microsoft Defender Antivirus"
        );
        assert!(ev.get("xmlns").is_none());
        assert!(ev.get("UserID").is_none());
    }

    #[test]
    fn event_id_with_qualifiers_and_unnamed_data() {
        let ev = ev_from(json!({"Event": {
            "System": {
                "Provider": {"#attributes": {"Name": "Service Control Manager",
                                             "EventSourceName": "Service Control Manager"}},
                "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": "7045"},
                "Channel": "System", "Computer": "WS1"
            },
            "EventData": {"Data": {"#text": ["svc", "C:\\x.exe", ""]}, "Binary": "00FF"}
        }}));
        assert_eq!(ev.get("EventID"), Some(&Value::Int(7045)));
        assert_eq!(ev.get("Qualifiers"), Some(&Value::Int(16384)));
        assert_eq!(
            ev.get("Data"),
            Some(&Value::List(vec![
                Value::str("svc"),
                Value::str("C:\\x.exe"),
                Value::str("")
            ]))
        );
        assert_eq!(text(&ev, "Binary").unwrap(), "00FF");

        let ev = ev_from(json!({"Event": {
            "System": {"EventID": 1, "Channel": "Application"},
            "EventData": {"Data": "only one"}
        }}));
        assert_eq!(text(&ev, "Data").unwrap(), "only one");
    }

    #[test]
    fn user_data_children_become_fields() {
        let ev = ev_from(json!({"Event": {
            "System": {"EventID": 104, "Channel": "System", "Computer": "WS2",
                       "Execution": {"#attributes": {"ProcessID": 1, "ThreadID": 2}}},
            "UserData": {"LogFileCleared": {
                "#attributes": {"xmlns": "http://manifests.microsoft.com/win/2004/08/windows/eventlog"},
                "SubjectUserName": "alice", "SubjectDomainName": "CORP",
                "Channel": "System", "BackupPath": null,
                "AdditionalInfo": {"Action": {"#attributes": {"name": "NoProxy"}},
                                   "Header": {"#text": "GET /"}}
            }}
        }}));
        assert_eq!(text(&ev, "SubjectUserName").unwrap(), "alice");
        assert_eq!(text(&ev, "SubjectDomainName").unwrap(), "CORP");
        assert_eq!(text(&ev, "Channel").unwrap(), "System");
        assert_eq!(text(&ev, "UserData.Channel").unwrap(), "System");
        assert_eq!(text(&ev, "AdditionalInfo.Action.name").unwrap(), "NoProxy");
        assert_eq!(text(&ev, "AdditionalInfo.Header").unwrap(), "GET /");
        assert!(ev.get("xmlns").is_none());
        assert!(ev.get("LogFileCleared.SubjectUserName").is_none());
    }

    #[test]
    fn event_data_process_id_wins_over_execution() {
        let ev = ev_from(json!({"Event": {
            "System": {"EventID": 1, "Execution": {"#attributes": {"ProcessID": 3000, "ThreadID": 1}},
                       "Security": {"#attributes": {"UserID": "S-1-5-18"}}},
            "EventData": {"ProcessId": 4242, "Image": "C:\\a.exe"}
        }}));
        assert_eq!(ev.get("ProcessId"), Some(&Value::Int(4242)));
        assert_eq!(ev.get("System.ProcessID"), Some(&Value::Int(3000)));
        assert_eq!(text(&ev, "UserID").unwrap(), "S-1-5-18");
    }

    #[test]
    fn separate_attributes_rendering_is_understood() {
        let ev = ev_from(json!({"Event": {
            "System": {"Provider_attributes": {"Name": "P"}, "Provider": null,
                       "EventID_attributes": {"Qualifiers": "0"}, "EventID": "11",
                       "TimeCreated_attributes": {"SystemTime": "2020-01-01T00:00:00Z"},
                       "TimeCreated": null},
            "EventData": {"Data_attributes": {"Name": "x"}, "TargetFilename": "f"}
        }}));
        assert_eq!(text(&ev, "Provider_Name").unwrap(), "P");
        assert_eq!(ev.get("EventID"), Some(&Value::Int(11)));
        assert_eq!(ev.time, Timestamp::parse("2020-01-01T00:00:00Z").unwrap());
        assert_eq!(text(&ev, "TargetFilename").unwrap(), "f");
    }

    #[test]
    fn rendering_info_gives_message() {
        let ev = ev_from(json!({"Event": {
            "System": {"EventID": 1},
            "RenderingInfo": {"Message": "hello", "Level": "Information"}
        }}));
        assert_eq!(text(&ev, "Message").unwrap(), "hello");
        assert_eq!(text(&ev, "RenderingInfo.Level").unwrap(), "Information");
    }
}
