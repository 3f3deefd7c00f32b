//! Names: well-known brands and their real domains, free webmail, URL shorteners, abused
//! top-level domains, confusable characters, punycode and edit distance.

use crate::util::{host_within, registrable_domain};

/// A brand that phishing imitates: the words that name it, and the domains it really mails
/// and links from.
pub struct Brand {
    pub name: &'static str,
    /// Lower-case words or phrases matched on word boundaries in display names and subjects.
    pub keywords: &'static [&'static str],
    /// Distinctive labels looked for inside look-alike domain names (`support-paypal.com`).
    pub labels: &'static [&'static str],
    pub domains: &'static [&'static str],
}

macro_rules! brand {
    ($name:expr, [$($k:expr),*], [$($l:expr),*], [$($d:expr),*]) => {
        Brand { name: $name, keywords: &[$($k),*], labels: &[$($l),*], domains: &[$($d),*] }
    };
}

/// Brands most imitated in phishing (APWG and vendor reports), and their domains.
pub const BRANDS: &[Brand] = &[
    brand!(
        "Microsoft",
        [
            "microsoft",
            "office 365",
            "office365",
            "microsoft 365",
            "outlook",
            "onedrive",
            "sharepoint",
            "microsoft teams",
            "windows defender",
            "hotmail"
        ],
        [
            "microsoft",
            "office365",
            "onedrive",
            "sharepoint",
            "outlook"
        ],
        [
            "microsoft.com",
            "office.com",
            "office365.com",
            "outlook.com",
            "live.com",
            "hotmail.com",
            "microsoftonline.com",
            "sharepoint.com",
            "onmicrosoft.com",
            "azure.com",
            "windows.net",
            "msn.com",
            "bing.com",
            "skype.com",
            "xbox.com",
            "microsoftstore.com",
            "onedrive.com",
            "microsoft365.com",
            "msft.net",
            "github.com",
            "linkedin.com",
            "azure.net",
            "office.net",
            "sharepointonline.com"
        ]
    ),
    brand!(
        "PayPal",
        ["paypal"],
        ["paypal"],
        [
            "paypal.com",
            "paypal.me",
            "paypal-communication.com",
            "paypalobjects.com",
            "paypal.de",
            "paypal.co.uk"
        ]
    ),
    brand!(
        "Apple",
        ["apple", "icloud", "itunes", "apple id"],
        ["icloud", "itunes", "appleid"],
        [
            "apple.com",
            "icloud.com",
            "me.com",
            "mac.com",
            "itunes.com",
            "apple.news"
        ]
    ),
    brand!(
        "Amazon",
        ["amazon", "amazon prime", "prime video"],
        ["amazon"],
        [
            "amazon.com",
            "amazon.co.uk",
            "amazon.de",
            "amazon.fr",
            "amazon.es",
            "amazon.it",
            "amazon.ca",
            "amazon.co.jp",
            "amazon.com.br",
            "amazon.in",
            "amazon.com.mx",
            "amazon.nl",
            "amazon.pl",
            "amazon.se",
            "amazonses.com",
            "amazonaws.com",
            "a2z.com",
            "primevideo.com",
            "amazon.jobs"
        ]
    ),
    brand!(
        "Netflix",
        ["netflix"],
        ["netflix"],
        ["netflix.com", "netflix.net"]
    ),
    brand!(
        "Meta",
        [
            "facebook",
            "instagram",
            "whatsapp",
            "meta business",
            "meta for business"
        ],
        ["facebook", "instagram", "whatsapp"],
        [
            "facebook.com",
            "facebookmail.com",
            "meta.com",
            "instagram.com",
            "whatsapp.com",
            "fb.com",
            "metamail.com"
        ]
    ),
    brand!(
        "Google",
        ["google", "gmail", "google drive", "google docs", "youtube"],
        ["google", "gmail", "youtube"],
        [
            "google.com",
            "gmail.com",
            "googlemail.com",
            "youtube.com",
            "googleusercontent.com",
            "google.de",
            "google.co.uk",
            "withgoogle.com",
            "googlegroups.com",
            "chromium.org",
            "googlesource.com",
            "android.com",
            "golang.org",
            "go.dev",
            "google.org",
            "gstatic.com"
        ]
    ),
    brand!(
        "LinkedIn",
        ["linkedin"],
        ["linkedin"],
        ["linkedin.com", "licdn.com"]
    ),
    brand!(
        "DHL",
        ["dhl", "dhl express"],
        ["dhl"],
        [
            "dhl.com",
            "dhl.de",
            "dhl.co.uk",
            "dpdhl.com",
            "dhl.fr",
            "dhl-news.com",
            "dhlparcel.nl"
        ]
    ),
    brand!("FedEx", ["fedex"], ["fedex"], ["fedex.com"]),
    brand!(
        "UPS",
        ["ups delivery", "ups package", "ups shipment"],
        [],
        ["ups.com"]
    ),
    brand!(
        "USPS",
        ["usps", "us postal service", "postal service"],
        ["usps"],
        ["usps.com", "usps.gov"]
    ),
    brand!(
        "DocuSign",
        ["docusign"],
        ["docusign"],
        ["docusign.com", "docusign.net"]
    ),
    brand!(
        "Dropbox",
        ["dropbox"],
        ["dropbox"],
        ["dropbox.com", "dropboxmail.com"]
    ),
    brand!(
        "Adobe",
        ["adobe", "adobe sign", "acrobat"],
        ["adobe"],
        ["adobe.com", "adobesign.com", "acrobat.com", "adobe.io"]
    ),
    brand!(
        "Wells Fargo",
        ["wells fargo", "wellsfargo"],
        ["wellsfargo"],
        ["wellsfargo.com"]
    ),
    brand!(
        "Bank of America",
        ["bank of america", "bankofamerica"],
        ["bankofamerica"],
        ["bankofamerica.com", "bofa.com", "ealerts.bankofamerica.com"]
    ),
    brand!(
        "Chase",
        ["chase bank", "jpmorgan", "jp morgan"],
        ["jpmorgan"],
        ["chase.com", "jpmorgan.com", "jpmchase.com"]
    ),
    brand!(
        "Citibank",
        ["citibank"],
        ["citibank"],
        ["citi.com", "citibank.com"]
    ),
    brand!(
        "HSBC",
        ["hsbc"],
        ["hsbc"],
        ["hsbc.com", "hsbc.co.uk", "hsbc.com.hk"]
    ),
    brand!(
        "Santander",
        ["santander"],
        ["santander"],
        [
            "santander.com",
            "santander.com.br",
            "santander.co.uk",
            "santander.de",
            "santander.es"
        ]
    ),
    brand!(
        "American Express",
        ["american express", "amex"],
        ["americanexpress"],
        ["americanexpress.com", "aexp.com", "amex.com"]
    ),
    brand!("Visa", ["visa card"], [], ["visa.com"]),
    brand!(
        "Mastercard",
        ["mastercard"],
        ["mastercard"],
        ["mastercard.com"]
    ),
    brand!("Coinbase", ["coinbase"], ["coinbase"], ["coinbase.com"]),
    brand!("Binance", ["binance"], ["binance"], ["binance.com"]),
    brand!("MetaMask", ["metamask"], ["metamask"], ["metamask.io"]),
    brand!(
        "Trust Wallet",
        ["trust wallet", "trustwallet"],
        ["trustwallet"],
        ["trustwallet.com"]
    ),
    brand!(
        "Ledger",
        [
            "ledger live",
            "ledger wallet",
            "from ledger",
            "ledger support"
        ],
        ["ledgerwallet"],
        ["ledger.com"]
    ),
    brand!("Blockchain.com", ["blockchain.com"], [], ["blockchain.com"]),
    brand!("Kraken", ["kraken"], [], ["kraken.com"]),
    brand!("Tether", ["tether", "usdt"], ["tether"], ["tether.to"]),
    brand!(
        "Norton",
        ["norton", "lifelock"],
        ["norton"],
        ["norton.com", "nortonlifelock.com", "gen.com"]
    ),
    brand!("McAfee", ["mcafee"], ["mcafee"], ["mcafee.com"]),
    brand!(
        "Zoom",
        ["zoom meeting", "zoom video"],
        [],
        ["zoom.us", "zoom.com"]
    ),
    brand!("Webex", ["webex"], ["webex"], ["webex.com", "cisco.com"]),
    brand!("Spotify", ["spotify"], ["spotify"], ["spotify.com"]),
    brand!(
        "eBay",
        ["ebay"],
        ["ebay"],
        ["ebay.com", "ebay.de", "ebay.co.uk", "ebay.fr", "ebay.it"]
    ),
    brand!("Walmart", ["walmart"], ["walmart"], ["walmart.com"]),
    brand!("Costco", ["costco"], ["costco"], ["costco.com"]),
    brand!(
        "Yahoo",
        ["yahoo"],
        [],
        [
            "yahoo.com",
            "yahoo.co.uk",
            "yahoo.de",
            "yahoo.fr",
            "yahoo.co.jp",
            "yahoo.com.br"
        ]
    ),
    brand!(
        "WeTransfer",
        ["wetransfer"],
        ["wetransfer"],
        ["wetransfer.com"]
    ),
    brand!(
        "Proton",
        ["proton mail", "protonmail", "proton.me"],
        ["protonmail"],
        ["proton.me", "protonmail.com", "protonmail.ch", "proton.ch"]
    ),
    brand!(
        "Steam",
        ["steam support", "steam community"],
        ["steamcommunity", "steampowered"],
        ["steampowered.com", "steamcommunity.com"]
    ),
    brand!("Booking.com", ["booking.com"], [], ["booking.com"]),
    brand!("Airbnb", ["airbnb"], ["airbnb"], ["airbnb.com"]),
    brand!(
        "Bradesco",
        ["bradesco"],
        ["bradesco"],
        [
            "bradesco.com.br",
            "bradescoseguros.com.br",
            "bradescard.com.br"
        ]
    ),
    brand!(
        "Itaú",
        ["itaú", "itau unibanco", "banco itau"],
        [],
        ["itau.com.br"]
    ),
    brand!(
        "Caixa",
        ["caixa econômica", "caixa economica", "caixa tem"],
        [],
        ["caixa.gov.br"]
    ),
    brand!(
        "Banco do Brasil",
        ["banco do brasil", "ourocard"],
        [],
        ["bb.com.br"]
    ),
    brand!("Nubank", ["nubank"], ["nubank"], ["nubank.com.br"]),
    brand!(
        "Mercado Livre",
        ["mercado livre", "mercado pago", "mercado libre"],
        ["mercadolivre", "mercadopago"],
        [
            "mercadolivre.com.br",
            "mercadopago.com.br",
            "mercadolibre.com",
            "mercadopago.com"
        ]
    ),
    brand!("Correios", ["correios"], ["correios"], ["correios.com.br"]),
    brand!(
        "Deutsche Telekom",
        ["telekom"],
        ["telekom"],
        ["telekom.de", "t-online.de", "telekom.com"]
    ),
    brand!(
        "Vodafone",
        ["vodafone"],
        ["vodafone"],
        ["vodafone.com", "vodafone.de", "vodafone.co.uk"]
    ),
    brand!("AT&T", ["at&t"], [], ["att.com", "att.net"]),
    brand!(
        "Verizon",
        ["verizon"],
        ["verizon"],
        ["verizon.com", "verizonwireless.com"]
    ),
    brand!(
        "Xfinity",
        ["xfinity", "comcast"],
        ["xfinity"],
        ["xfinity.com", "comcast.com", "comcast.net"]
    ),
    brand!("IRS", ["internal revenue service"], [], ["irs.gov"]),
    brand!("HMRC", ["hmrc", "hm revenue"], [], ["gov.uk"]),
    brand!(
        "Decathlon",
        ["decathlon"],
        ["decathlon"],
        [
            "decathlon.com",
            "decathlon.de",
            "decathlon.fr",
            "decathlon.co.uk",
            "decathlon.com.br"
        ]
    ),
    brand!("Lidl", ["lidl"], [], ["lidl.com", "lidl.de", "lidl.co.uk"]),
    brand!(
        "Aldi",
        ["aldi"],
        [],
        ["aldi.com", "aldi-sued.de", "aldi-nord.de", "aldi.co.uk"]
    ),
    brand!("Uniswap", ["uniswap"], ["uniswap"], ["uniswap.org"]),
    brand!("OpenSea", ["opensea"], ["opensea"], ["opensea.io"]),
    brand!("Ripple", ["ripple", "xrp"], [], ["ripple.com"]),
];

/// The brand whose domains include `domain` (a registrable domain or host).
pub fn brand_of_domain(domain: &str) -> Option<&'static Brand> {
    BRANDS
        .iter()
        .find(|b| b.domains.iter().any(|d| host_within(domain, d)))
}

/// Brands named (on word boundaries) in `text`, compared through the confusable skeleton.
pub fn brands_named(text: &str) -> Vec<&'static Brand> {
    // A capital I passes for a small l in most fonts (`Iedger`).
    let t = format!(
        "{} {}",
        skeleton_text(text),
        skeleton_text(&text.replace('I', "l"))
    );
    BRANDS
        .iter()
        .filter(|b| {
            b.keywords
                .iter()
                .any(|k| contains_word(&t, &skeleton_text(k)))
        })
        .collect()
}

/// `needle` in `hay` on word boundaries (both lower case).
pub fn contains_word(hay: &str, needle: &str) -> bool {
    let mut from = 0;
    while let Some(i) = hay[from..].find(needle) {
        let at = from + i;
        let end = at + needle.len();
        let before = hay[..at].chars().next_back();
        let after = hay[end..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        if boundary(before) && boundary(after) {
            return true;
        }
        from = at + needle.len().max(1);
        while from < hay.len() && !hay.is_char_boundary(from) {
            from += 1;
        }
        if from >= hay.len() {
            break;
        }
    }
    false
}

const FREEMAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "ymail.com",
    "rocketmail.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "mail.com",
    "email.com",
    "usa.com",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "web.de",
    "yandex.com",
    "yandex.ru",
    "ya.ru",
    "mail.ru",
    "inbox.ru",
    "bk.ru",
    "list.ru",
    "rambler.ru",
    "protonmail.com",
    "proton.me",
    "pm.me",
    "zoho.com",
    "zohomail.com",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "yeah.net",
    "tutanota.com",
    "tuta.io",
    "ukr.net",
    "seznam.cz",
    "libero.it",
    "laposte.net",
    "free.fr",
    "orange.fr",
    "t-online.de",
    "bol.com.br",
    "uol.com.br",
    "terra.com.br",
    "rediffmail.com",
    "yopmail.com",
    "mailinator.com",
    "naver.com",
    "daum.net",
    "hushmail.com",
    "fastmail.com",
    "inbox.com",
    "lycos.com",
    "mail2world.com",
    "onet.pl",
    "wp.pl",
    "interia.pl",
    "abv.bg",
    "cock.li",
];

/// A free webmail domain (anyone can get an address there).
pub fn is_freemail(domain: &str) -> bool {
    let reg = registrable_domain(domain);
    if FREEMAIL.contains(&reg.as_str()) {
        return true;
    }
    // yahoo.co.uk, hotmail.fr, outlook.de, live.co.uk...
    let first = reg.split('.').next().unwrap_or("");
    matches!(
        first,
        "yahoo" | "hotmail" | "outlook" | "live" | "gmx" | "yandex" | "aol"
    ) && reg.contains('.')
        && reg.len() <= first.len() + 7
}

const SHORTENERS: &[&str] = &[
    "bit.ly",
    "bitly.com",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "ow.ly",
    "is.gd",
    "buff.ly",
    "cutt.ly",
    "rebrand.ly",
    "rb.gy",
    "shorturl.at",
    "tiny.cc",
    "s.id",
    "t.ly",
    "bl.ink",
    "qrco.de",
    "urlz.fr",
    "shorte.st",
    "adf.ly",
    "v.gd",
    "x.co",
    "soo.gd",
    "clck.ru",
    "u.to",
    "tr.im",
    "short.io",
    "gg.gg",
    "tinu.be",
    "shorturl.gg",
    "lnk.bio",
    "linktr.ee",
    "surl.li",
    "l.ead.me",
    "n9.cl",
    "did.li",
    "2no.co",
    "iplogger.org",
    "grabify.link",
    "urly.fi",
    "bit.do",
    "cutt.us",
    "shorturl.asia",
    "tiny.one",
    "rebrandly.com",
    "t2m.io",
    "snip.ly",
];

pub fn is_shortener(host: &str) -> bool {
    SHORTENERS.iter().any(|s| host_within(host, s))
}

/// Top-level domains with the highest shares of abuse in industry reports (Spamhaus,
/// Interisle), and the ones that look like file names.
const ABUSED_TLDS: &[&str] = &[
    "xyz",
    "top",
    "click",
    "link",
    "work",
    "buzz",
    "rest",
    "fit",
    "cfd",
    "sbs",
    "icu",
    "cyou",
    "monster",
    "quest",
    "bond",
    "lat",
    "zip",
    "mov",
    "tk",
    "ml",
    "ga",
    "cf",
    "gq",
    "pw",
    "cam",
    "country",
    "gdn",
    "loan",
    "men",
    "win",
    "bid",
    "review",
    "kim",
    "stream",
    "download",
    "racing",
    "date",
    "faith",
    "party",
    "science",
    "trade",
    "webcam",
    "accountant",
    "cricket",
    "su",
    "surf",
    "hair",
    "skin",
    "makeup",
    "beauty",
    "autos",
    "boats",
    "homes",
    "motorcycles",
    "yachts",
    "mom",
    "lol",
    "wiki",
    "support",
    "help",
];

pub fn abused_tld(host: &str) -> Option<&'static str> {
    let tld = host.trim_end_matches('.').rsplit('.').next()?;
    ABUSED_TLDS
        .iter()
        .find(|t| tld.eq_ignore_ascii_case(t))
        .copied()
}

// ---------------------------------------------------------------------------------------------
// Confusables

/// The Latin letter a confusable character imitates, if any (Cyrillic, Greek, fullwidth,
/// accented and other look-alikes of ASCII letters and digits).
pub fn confusable_of(c: char) -> Option<char> {
    Some(match c {
        'а' | 'ɑ' | 'α' | 'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'А' | 'Α' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'A',
        'Ь' | 'Ƅ' => 'b',
        'В' | 'Β' => 'B',
        'с' | 'ϲ' | 'ç' | 'ć' | 'č' => 'c',
        'С' | 'Ϲ' | 'Ç' => 'C',
        'ԁ' | 'ď' | 'đ' => 'd',
        'е' | 'ё' | 'ε' | 'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
        'Е' | 'Ε' | 'È' | 'É' | 'Ê' | 'Ë' => 'E',
        'ɡ' | 'ğ' | 'ġ' => 'g',
        'һ' | 'ħ' => 'h',
        'Н' | 'Η' => 'H',
        'і' | 'ı' | 'ι' | 'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ɩ' | 'ӏ' => 'i',
        'І' | 'Ι' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'Ӏ' => 'I',
        'ј' => 'j',
        'Ј' => 'J',
        'κ' | 'к' => 'k',
        'К' | 'Κ' => 'K',
        'ł' | 'ľ' | 'ļ' => 'l',
        'М' | 'Μ' => 'M',
        'ո' | 'ñ' | 'ń' | 'ň' => 'n',
        'Ν' | 'Ñ' => 'N',
        'о' | 'ο' | 'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'σ' | 'օ' => 'o',
        'О' | 'Ο' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => 'O',
        'р' | 'ρ' => 'p',
        'Р' | 'Ρ' => 'P',
        'ԛ' => 'q',
        'ѕ' | 'ś' | 'š' | 'ş' => 's',
        'Ѕ' | 'Š' => 'S',
        'τ' | 'ţ' | 'ť' => 't',
        'Т' | 'Τ' => 'T',
        'υ' | 'ս' | 'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' => 'u',
        'ν' | 'ѵ' => 'v',
        'ԝ' | 'ѡ' => 'w',
        'х' | 'χ' => 'x',
        'Х' | 'Χ' => 'X',
        'у' | 'ý' | 'ÿ' => 'y',
        'У' | 'Υ' | 'Ý' => 'Y',
        'ź' | 'ż' | 'ž' => 'z',
        'Ζ' | 'Ž' => 'Z',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21)?,
        _ => return None,
    })
}

/// Text folded to lower-case ASCII look-alikes, for comparing names.
pub fn skeleton_text(s: &str) -> String {
    s.chars()
        .filter(|c| !is_invisible(*c))
        .map(|c| confusable_of(c).unwrap_or(c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A domain label folded for look-alike comparison: confusables, then `rn`->`m`, `vv`->`w`,
/// `0`->`o`, `1`->`l`.
pub fn skeleton_label(s: &str) -> String {
    let folded: String = skeleton_text(s)
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '|' => 'l',
            _ => c,
        })
        .collect();
    folded.replace("rn", "m").replace("vv", "w")
}

/// Zero-width and other invisible formatting characters.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{034F}' | '\u{180E}'
    )
}

/// Right-to-left and other bidirectional controls (used to reverse an extension on screen).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Script {
    Latin,
    Cyrillic,
    Greek,
    Other,
}

fn script(c: char) -> Option<Script> {
    if !c.is_alphabetic() {
        return None;
    }
    Some(match c as u32 {
        0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF => Script::Latin,
        0x370..=0x3FF | 0x1F00..=0x1FFF => Script::Greek,
        0x400..=0x52F => Script::Cyrillic,
        _ => Script::Other,
    })
}

/// Words that mix Latin letters with Cyrillic or Greek look-alikes (`Pаypal` with a Cyrillic
/// `а`): returns such words (at most a few).
pub fn mixed_script_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in s.split(|c: char| !c.is_alphanumeric()) {
        let mut latin = false;
        let mut lookalike = false;
        for c in word.chars() {
            match script(c) {
                Some(Script::Latin) => latin = true,
                Some(Script::Cyrillic) | Some(Script::Greek) if confusable_of(c).is_some() => {
                    lookalike = true
                }
                _ => {}
            }
        }
        if latin && lookalike && out.len() < 5 {
            out.push(word.to_string());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Punycode (RFC 3492), decoding only

/// Decode one `xn--` label; `None` when it is not valid punycode.
pub fn punycode_decode_label(label: &str) -> Option<String> {
    let input = label
        .strip_prefix("xn--")
        .or_else(|| label.strip_prefix("XN--"))?;
    const BASE: u32 = 36;
    const TMIN: u32 = 1;
    const TMAX: u32 = 26;
    const SKEW: u32 = 38;
    const DAMP: u32 = 700;
    let (basic, ext) = match input.rfind('-') {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => ("", input),
    };
    let mut out: Vec<char> = basic.chars().collect();
    if !out.iter().all(char::is_ascii) || input.len() > 253 {
        return None;
    }
    let (mut n, mut i, mut bias) = (128u32, 0u32, 72u32);
    let digits: Vec<u8> = ext.bytes().collect();
    let mut p = 0;
    while p < digits.len() {
        let old_i = i;
        let mut w = 1u32;
        let mut k = BASE;
        loop {
            let c = *digits.get(p)?;
            p += 1;
            let digit = match c {
                b'a'..=b'z' => u32::from(c - b'a'),
                b'A'..=b'Z' => u32::from(c - b'A'),
                b'0'..=b'9' => u32::from(c - b'0') + 26,
                _ => return None,
            };
            i = i.checked_add(digit.checked_mul(w)?)?;
            let t = if k <= bias {
                TMIN
            } else if k >= bias + TMAX {
                TMAX
            } else {
                k - bias
            };
            if digit < t {
                break;
            }
            w = w.checked_mul(BASE - t)?;
            k += BASE;
        }
        let len = out.len() as u32 + 1;
        // adapt
        let mut delta = if old_i == 0 {
            (i - old_i) / DAMP
        } else {
            (i - old_i) / 2
        };
        delta += delta / len;
        let mut kk = 0;
        while delta > ((BASE - TMIN) * TMAX) / 2 {
            delta /= BASE - TMIN;
            kk += BASE;
        }
        bias = kk + (((BASE - TMIN + 1) * delta) / (delta + SKEW));
        n = n.checked_add(i / len)?;
        i %= len;
        out.insert(i as usize, char::from_u32(n)?);
        i += 1;
        if out.len() > 63 {
            return None;
        }
    }
    Some(out.into_iter().collect())
}

/// A host with its punycode labels decoded (unchanged when there are none).
pub fn unicode_host(host: &str) -> String {
    host.split('.')
        .map(|l| punycode_decode_label(l).unwrap_or_else(|| l.to_string()))
        .collect::<Vec<_>>()
        .join(".")
}

/// Optimal-string-alignment edit distance, giving up (returning `max + 1`) past `max`.
pub fn edit_distance(a: &str, b: &str, max: usize) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(b.len() + 1) {
        *cell = j;
    }
    for i in 1..=a.len() {
        let mut row_min = usize::MAX;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return max + 1;
        }
    }
    d[a.len() * w + b.len()].min(max + 1)
}

/// The part of a registrable domain before its public suffix: `paypal.co.uk` -> `paypal`.
pub fn domain_label(registrable: &str) -> &str {
    registrable.split('.').next().unwrap_or(registrable)
}

/// Every brand domain as (registrable domain, its label's skeleton), computed once.
fn brand_targets() -> &'static [(String, String, &'static Brand)] {
    static T: std::sync::OnceLock<Vec<(String, String, &'static Brand)>> =
        std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut v: Vec<(String, String, &'static Brand)> = Vec::new();
        for b in BRANDS {
            for d in b.domains {
                let reg = crate::util::registrable_domain(d);
                if !v.iter().any(|(r, _, _)| *r == reg) {
                    let sk = skeleton_label(domain_label(&reg));
                    v.push((reg, sk, b));
                }
            }
        }
        v
    })
}

/// The brand domain that `domain` (registrable) imitates, and how.
pub fn imitated_brand(domain: &str) -> Option<(&'static str, &'static str)> {
    let d_uni = unicode_host(domain);
    let dl = domain_label(&d_uni).to_string();
    let ds = skeleton_label(&dl);
    for (reg, ts, _) in brand_targets() {
        if domain.eq_ignore_ascii_case(reg) {
            return None;
        }
        let tl = domain_label(reg);
        if dl.eq_ignore_ascii_case(tl) {
            if tl.chars().count() >= 6 {
                return Some((reg.as_str(), "the same name under another suffix"));
            }
            continue;
        }
        if ds == *ts {
            return Some((reg.as_str(), "look-alike characters"));
        }
        if tl.chars().count() >= 5
            && ds.len().abs_diff(ts.len()) <= 1
            && edit_distance(&ds, ts, 1) == 1
        {
            return Some((reg.as_str(), "one character away"));
        }
    }
    None
}

/// How `domain` imitates `target` (both registrable), if it does: same skeleton (confusable
/// characters, punycode), or one edit away (for names of 5+ letters).
pub fn imitates(domain: &str, target: &str) -> Option<&'static str> {
    if domain.eq_ignore_ascii_case(target) {
        return None;
    }
    let d_uni = unicode_host(domain);
    let dl = domain_label(&d_uni);
    let tl = domain_label(target);
    if dl.eq_ignore_ascii_case(tl) {
        // Same name under another suffix: paypal.co vs paypal.com. Only for distinct names.
        return (tl.chars().count() >= 6).then_some("the same name under another suffix");
    }
    let (ds, ts) = (skeleton_label(dl), skeleton_label(tl));
    if ds == ts {
        return Some("look-alike characters");
    }
    if tl.chars().count() >= 5 && edit_distance(&ds, &ts, 1) == 1 {
        return Some("one character away");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punycode_and_skeletons() {
        assert_eq!(
            punycode_decode_label("xn--pypal-4ve").as_deref(),
            Some("pаypal")
        );
        assert_eq!(
            punycode_decode_label("xn--mnchen-3ya").as_deref(),
            Some("münchen")
        );
        assert_eq!(punycode_decode_label("xn--!!"), None);
        assert_eq!(skeleton_label("rnicrosoft"), "microsoft");
        assert_eq!(skeleton_label("paypa1"), "paypal");
        assert_eq!(
            imitates("paypa1.com", "paypal.com"),
            Some("look-alike characters")
        );
        assert_eq!(
            imitates("xn--pypal-4ve.com", "paypal.com"),
            Some("look-alike characters")
        );
        assert_eq!(
            imitates("micosoft.com", "microsoft.com"),
            Some("one character away")
        );
        assert_eq!(imitates("microsoft.com", "microsoft.com"), None);
        assert_eq!(imitates("kernel.org", "paypal.com"), None);
        assert_eq!(edit_distance("kitten", "sitting", 5), 3);
        assert_eq!(edit_distance("ab", "ba", 2), 1);
    }

    #[test]
    fn brands_and_lists() {
        let named = brands_named("Microsoft account team");
        assert_eq!(named[0].name, "Microsoft");
        assert!(brands_named("Mіcrosoft")
            .iter()
            .any(|b| b.name == "Microsoft"));
        assert!(brands_named("a watchdog driver").is_empty());
        assert!(brand_of_domain("email.microsoft.com").is_some());
        assert!(
            is_freemail("yahoo.co.uk") && is_freemail("gmail.com") && !is_freemail("kernel.org")
        );
        assert!(is_shortener("bit.ly"));
        assert_eq!(abused_tld("evil.xyz"), Some("xyz"));
        assert_eq!(
            mixed_script_words("Pаypal account"),
            vec!["Pаypal".to_string()]
        );
        assert!(mixed_script_words("plain english, русский текст").is_empty());
    }
}
