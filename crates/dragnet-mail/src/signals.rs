//! The catalogue of signals: each has a name, a category, a weight, and one sentence that
//! explains it in words a trainer can reuse.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// SPF / DKIM / DMARC / compauth from the receiving organisation.
    Authentication,
    /// Who the message says it is from, against who sent it.
    Sender,
    /// Names made to look like someone else's.
    Lookalike,
    /// Attached files.
    Attachment,
    /// Links and forms.
    Link,
    /// What the text says.
    Content,
    /// How the message is built.
    Structure,
}

pub struct SignalDef {
    pub name: &'static str,
    pub category: Category,
    pub weight: f64,
    pub explanation: &'static str,
}

macro_rules! sig {
    ($name:expr, $cat:ident, $w:expr, $text:expr) => {
        SignalDef {
            name: $name,
            category: Category::$cat,
            weight: $w,
            explanation: $text,
        }
    };
}

/// Every signal the analysis can raise.
pub const SIGNALS: &[SignalDef] = &[
    // Authentication
    sig!("auth_dmarc_fail", Authentication, 3.0, "The receiving mail server checked the sender's domain and the message failed DMARC: the From address is very likely forged."),
    sig!("auth_compauth_fail", Authentication, 2.5, "The receiving mail service could not confirm that the message really comes from the domain in the From address (composite authentication failed)."),
    sig!("auth_spf_fail", Authentication, 1.5, "The server that delivered the message is not allowed to send mail for the sender's domain (SPF failed)."),
    sig!("auth_spf_softfail", Authentication, 1.0, "The sender's domain says the delivering server is probably not one of its own (SPF soft fail)."),
    sig!("auth_dkim_fail", Authentication, 1.0, "The message carries a digital signature (DKIM) that does not verify: it was altered or forged."),
    sig!("auth_spf_fail_from", Authentication, 3.0, "The sender's own domain says the server that delivered this message may not send its mail (SPF failed for the From domain): the sender is forged."),
    sig!("auth_none", Authentication, 1.0, "Nothing vouches for the sender: no SPF, DKIM or DMARC check passed."),
    sig!("auth_unaligned", Authentication, 1.0, "The checks that passed were for other domains: nothing proves the message comes from the domain in its From address."),
    sig!("auth_dkim_unaligned", Authentication, 0.5, "The message is signed, but by a domain other than the one shown in the From address."),
    // Sender
    sig!("internal_domain_spoof", Sender, 3.0, "The message claims to come from our own organisation but arrived from outside without passing authentication."),
    sig!("display_name_address", Sender, 2.5, "The sender's display name shows an address or domain that is not the one the message really comes from."),
    sig!("display_name_brand", Sender, 2.5, "The sender's name claims a well-known company, but the address belongs to an unrelated domain."),
    sig!("reply_to_freemail", Sender, 2.5, "Replies would go to a free webmail address, although the message claims to come from an organisation."),
    sig!("from_is_recipient", Sender, 1.5, "The message pretends to come from your own address: a common trick in extortion and fake-warning mail."),
    sig!("reply_to_mismatch", Sender, 1.0, "Replies would go to a different domain than the one the message claims to come from."),
    sig!("malformed_from", Sender, 1.5, "The From field is malformed (several names or a name without an address), which mail programs show misleadingly."),
    sig!("display_name_role", Sender, 1.5, "The sender's name claims an IT, mailbox or security role (administrator, helpdesk, mail server), but the message comes from outside."),
    sig!("display_name_badge", Sender, 1.5, "The sender's name carries check marks or badges to look verified; real senders do not need them."),
    sig!("fake_reply", Sender, 1.5, "The subject says Re: or Fwd: but the message answers nothing: a fake conversation to lower your guard."),
    sig!("freemail_sender", Sender, 1.0, "A message about accounts, payments, prizes or a company comes from a free webmail address."),
    sig!("free_platform_sender", Sender, 1.0, "The message was sent through a free cloud platform's mailer (a Firebase project, a trial Microsoft 365 tenant) rather than the sender's own mail service."),
    sig!("helo_not_fqdn", Sender, 1.0, "The server that sent the message did not introduce itself with a proper internet name, as real mail servers do."),
    sig!("system_sender", Sender, 1.0, "The message was sent by a system account of a web server (root, www-data, wordpress...), as mass-mailing scripts do."),
    sig!("return_path_mismatch", Sender, 0.5, "The envelope sender (where bounces go) belongs to a different domain than the From address."),
    sig!("sender_mismatch", Sender, 0.5, "The Sender field names a different domain than the From address."),
    sig!("message_id_mismatch", Sender, 0.5, "The message identifier was made by a domain unrelated to the sender."),
    // Look-alikes
    sig!("lookalike_domain", Lookalike, 3.0, "The sender's domain imitates a trusted domain (a look-alike with swapped or foreign characters, or one letter off)."),
    sig!("brand_in_domain", Lookalike, 2.0, "The sender's domain borrows a well-known brand name but does not belong to that company."),
    sig!("confusable_text", Lookalike, 2.0, "The sender name or subject mixes in letters from other alphabets that look like Latin ones, to dodge filters or imitate a name."),
    sig!("punycode_domain", Lookalike, 1.5, "The sender's domain is written with international characters (punycode), often used to imitate a familiar name."),
    sig!("obfuscated_domain", Lookalike, 2.0, "The sender's domain is broken into single letters or padded with junk labels (s.u.p.p.o.r.t.example.com) to slip past filters."),
    sig!("invisible_chars", Lookalike, 1.0, "The sender name or subject hides invisible characters, a trick to slip past filters."),
    // Attachments
    sig!("dangerous_attachment", Attachment, 4.0, "An attached file runs code when opened (program, script, shortcut, disk image, help file, OneNote or installer): legitimate business mail almost never sends these."),
    sig!("macro_document", Attachment, 4.0, "An attached Office document carries macros, which run code once the reader clicks 'Enable content'."),
    sig!("remote_template", Attachment, 4.0, "An attached document loads a template or object from the internet when opened, a way to fetch malicious code."),
    sig!("html_smuggling", Attachment, 4.0, "HTML in the message builds a file inside the browser and makes it save it, to slip malware past mail filters."),
    sig!("rtl_override", Attachment, 4.0, "An attachment's name contains a right-to-left control character that reverses how its extension is displayed."),
    sig!("svg_script", Attachment, 4.0, "An attached image (SVG) contains script or a web page, a way to run code or show a fake login page."),
    sig!("double_extension", Attachment, 3.0, "An attachment's name ends with a second, hidden extension (like invoice.pdf.exe) to look like a harmless document."),
    sig!("encrypted_archive", Attachment, 3.0, "An attached archive is password-protected, which stops mail filters from looking inside it."),
    sig!("ole_package", Attachment, 3.0, "An attached document embeds another file as a package object, which can hide a program."),
    sig!("rtf_objects", Attachment, 3.0, "An attached RTF document embeds OLE objects, a common way to exploit Word."),
    sig!("pdf_active", Attachment, 3.0, "An attached PDF contains active content (JavaScript, a launch action or an embedded file)."),
    sig!("yara_match", Attachment, 3.0, "An attachment matches a YARA rule for known malicious content."),
    sig!("type_mismatch", Attachment, 2.5, "An attachment is not what its name or type says (for example a program named like a PDF)."),
    sig!("encrypted_document", Attachment, 2.0, "An attached Office document is password-protected, which hides its content from mail filters."),
    sig!("archive_bomb", Attachment, 2.0, "An attached archive is built to explode in size when unpacked (a zip bomb), to overwhelm scanners."),
    sig!("html_attachment", Attachment, 2.0, "An HTML file is attached: opened locally, such files usually show a fake login page or download something."),
    sig!("password_in_body", Attachment, 1.5, "The message gives the password for its protected attachment, a classic way to get malware past filters."),
    sig!("lnk_command", Attachment, 1.5, "A shortcut file launches a command interpreter (PowerShell, cmd, mshta...)."),
    sig!("archive_nesting", Attachment, 1.0, "Archives are nested inside archives deeper than usual, to hide what they contain."),
    sig!("archive_unopened", Attachment, 1.0, "An archive format that dragnet does not open (RAR, 7-Zip, CAB) is attached; its contents were not checked."),
    // Links
    sig!("link_dangerous_scheme", Link, 3.0, "A link uses a scheme that runs script or opens local files or searches (javascript:, data:, file:, search-ms:, ms-msdt:...)."),
    sig!("link_text_mismatch", Link, 3.0, "A link shows one web address but leads to another: the text is a disguise."),
    sig!("link_lookalike", Link, 3.0, "A link leads to a domain that imitates a trusted one."),
    sig!("link_executable", Link, 3.0, "A link downloads a program, script, shortcut, disk image or archive directly."),
    sig!("credential_form", Link, 3.0, "The message contains a form that asks for a password: real services never ask for it by mail."),
    sig!("link_userinfo", Link, 2.5, "A link hides its real destination behind a familiar name followed by @ (https://trusted.com@evil.example)."),
    sig!("link_brand_subdomain", Link, 2.5, "A link puts a well-known company's domain in front of an unrelated one (paypal.com.evil.example)."),
    sig!("link_ip_host", Link, 2.0, "A link points to a bare IP address instead of a named web site."),
    sig!("link_brand_in_host", Link, 1.5, "A link's domain borrows a well-known brand name but does not belong to that company."),
    sig!("link_punycode", Link, 1.5, "A link's domain is written with international characters (punycode), often to imitate a familiar name."),
    sig!("link_free_hosting", Link, 1.5, "A link leads to a free web-hosting or app-hosting service where anyone can publish a fake page."),
    sig!("form_in_body", Link, 1.5, "The message contains a form that sends what you type to a web site."),
    sig!("link_redirect", Link, 1.5, "A link passes through a redirector (an open redirect on another site) to hide where it really goes."),
    sig!("link_obfuscated", Link, 1.5, "A link's address is disguised with needless percent-encoding of ordinary letters, to hide it from filters and readers."),
    sig!("link_shortener", Link, 1.5, "A link goes through a URL shortener, which hides its destination."),
    sig!("script_in_body", Link, 1.0, "The message's HTML contains script, which mail programs never need."),
    sig!("link_abused_tld", Link, 0.7, "A link leads to a domain under a top-level domain that is heavily abused for phishing and spam."),
    // Content
    sig!("lure_credentials", Content, 1.5, "The text pushes you to verify, unlock or restore an account, or says your password or mailbox needs action."),
    sig!("recipient_in_subject", Sender, 1.0, "The subject or greeting quotes your own e-mail address to look personal: mass phishing does this, colleagues do not."),
    sig!("image_only", Link, 1.5, "The message is little more than a picture with a link, so that filters cannot read its text."),
    sig!("hidden_text", Structure, 1.0, "The message hides a lot of invisible text, a trick to confuse spam filters."),
    sig!("lure_advance_fee", Content, 1.5, "The text tells a story of money waiting for you (inheritance, a dying benefactor, a fund to release): an advance-fee fraud."),
    sig!("lure_romance", Content, 1.0, "The text offers dates, romance or sex from strangers: a lure for scams and malicious sites."),
    sig!("fake_unsubscribe", Structure, 1.0, "The message poses as a newsletter with an unsubscribe line, but lacks the unsubscribe header that real bulk senders must include."),
    sig!("lure_urgency", Content, 0.7, "The text creates urgency or threatens consequences (final warning, within 24 hours, suspended)."),
    sig!("lure_reward", Content, 1.0, "The text promises a prize, gift, reward or free money."),
    sig!("lure_action", Content, 0.7, "The text presses you to click, open or download something."),
    sig!("links_unrelated", Link, 1.0, "Every link leads to web sites unrelated to the sender's domain."),
    sig!("lure_money", Content, 0.5, "The text is about payments, crypto-currency or wallets."),
    // Structure
    sig!("mime_anomaly", Structure, 0.5, "The message's structure is malformed or exceeds normal limits, which can hide content from filters."),
];

/// The definition of a signal by name.
pub fn def(name: &str) -> Option<&'static SignalDef> {
    SIGNALS.iter().find(|d| d.name == name)
}

/// Most any one category adds to the score (several symptoms of one cause count once).
pub fn category_cap(c: Category) -> f64 {
    match c {
        Category::Authentication => 4.5,
        Category::Content => 2.0,
        Category::Structure => 2.5,
        Category::Sender => 5.0,
        Category::Lookalike => 5.0,
        Category::Attachment | Category::Link => f64::INFINITY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_consistent() {
        let mut names: Vec<&str> = SIGNALS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len(), "duplicate signal names");
        for s in SIGNALS {
            assert!(s.weight > 0.0);
            assert!(s.explanation.ends_with('.'), "{}", s.name);
        }
    }
}
