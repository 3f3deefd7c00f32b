//! Microsoft 365 unified audit log records (Exchange mailbox activity).

use crate::engine::{Body, Cx, FileKey};
use crate::json::Obj;
use crate::rng::Rng;
use crate::time;
use crate::world::{User, TENANT};

/// Outlook desktop's client id, and other well-known first-party app ids.
pub const OUTLOOK_APP: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
pub const OWA_APP: &str = "00000002-0000-0ff1-ce00-000000000000";

pub struct Item<'a> {
    pub subject: &'a str,
    pub folder: &'a str,
    pub size: u64,
    pub message_id: &'a str,
}

pub struct Op<'a> {
    pub operation: &'a str,
    pub user: &'a User,
    pub client_ip: &'a str,
    pub app_id: &'a str,
    pub client_info: &'a str,
    pub item: Option<Item<'a>>,
    /// Mailbox access by someone other than the owner (delegate / app).
    pub logon_type: u8,
}

fn folder_id(r: &Rng) -> String {
    format!("LgAAAAD{}AQ{}AAAAAAEPAAAB", r.base62(22), r.base62(20))
}

/// Emit one Exchange mailbox audit record.
pub fn record(cx: &mut Cx, r: &Rng, t: i64, step: u16, op: &Op) {
    let mut o = Obj::with_capacity(1200);
    o.str("CreationTime", &time::m365(t))
        .str("Id", &r.guid())
        .str("Operation", op.operation)
        .str("OrganizationId", &cx.w.org_id)
        .num(
            "RecordType",
            if op.operation == "MailItemsAccessed" {
                50
            } else {
                2
            },
        )
        .str("ResultStatus", "Succeeded")
        .str("UserKey", &op.user.user_key)
        .num("UserType", 0)
        .num("Version", 1)
        .str("Workload", "Exchange")
        .str("ClientIP", op.client_ip)
        .str("UserId", &op.user.upn())
        .str("AppId", op.app_id)
        .str("ClientAppId", op.app_id)
        .str("ClientIPAddress", op.client_ip)
        .str("ClientInfoString", op.client_info)
        .bool("ExternalAccess", false)
        .num("InternalLogonType", 0)
        .num("LogonType", i64::from(op.logon_type))
        .str("LogonUserSid", &op.user.sid)
        .str("MailboxGuid", &op.user.mailbox_guid)
        .str("MailboxOwnerSid", &op.user.sid)
        .str("MailboxOwnerUPN", &op.user.upn())
        .str("OrganizationName", TENANT)
        .str(
            "OriginatingServer",
            &format!(
                "AM{}PR0{}MB{} (15.20.9678.025)",
                r.range(0, 9),
                r.range(1, 9),
                r.range(1000, 9999)
            ),
        );
    if op.operation == "MailItemsAccessed" {
        let mut props = Obj::new();
        props
            .str("Name", "MailAccessType")
            .str("Value", if op.item.is_some() { "Bind" } else { "Sync" });
        o.raw("OperationProperties", &format!("[{}]", props.finish()));
    }
    if let Some(it) = &op.item {
        let mut pf = Obj::new();
        pf.str("Id", &folder_id(r)).str("Path", it.folder);
        let pf = pf.finish();
        let mut item = Obj::new();
        item.str("Id", &format!("RgAAAAD{}", r.base62(40)))
            .str("InternetMessageId", it.message_id)
            .raw("ParentFolder", &pf)
            .num("SizeInBytes", it.size as i64)
            .str("Subject", it.subject);
        let item = item.finish();
        match op.operation {
            "SoftDelete" | "HardDelete" | "MoveToDeletedItems" => {
                o.raw("AffectedItems", &format!("[{item}]"));
                o.raw("Folder", &pf);
                o.raw("Item", &item);
            }
            "MailItemsAccessed" => {
                let mut fi = Obj::new();
                fi.str("InternetMessageId", it.message_id)
                    .num("SizeInBytes", it.size as i64);
                let mut f = Obj::new();
                f.raw("FolderItems", &format!("[{}]", fi.finish()))
                    .str("Id", &folder_id(r))
                    .str("Path", it.folder);
                o.raw("Folders", &format!("[{}]", f.finish()));
                o.raw("Item", &item);
            }
            _ => {
                o.raw("Item", &item);
            }
        }
    }
    cx.emit(t, FileKey::M365, step, Body::Line(o.finish()));
}
