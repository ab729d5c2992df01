//! Hostile XML: a reply or notice nested thousands of levels deep is refused as unreadable
//! (a `Protocol` error), never a stack overflow that takes the process down. Each decode runs on
//! a 2 MiB stack, as a tokio worker has.
use loyalty_idosell::decode;
use loyalty_idosell::names::Names;

fn nested(depth: usize) -> Vec<u8> {
    let mut s = String::from("<?xml version=\"1.0\"?><Envelope><Body><r><response><errors><faultCode>0</faultCode><faultString></faultString></errors><Results><orders><item>");
    s.push_str(&"<a>".repeat(depth));
    s.push_str(&"</a>".repeat(depth));
    s.push_str("</item></orders></Results></response></r></Body></Envelope>");
    s.into_bytes()
}

#[test]
fn deep_order_status_reply_is_an_error_not_an_abort() {
    let depth = 200_000;
    let body = nested(depth);
    let names = Names::default();
    // Run on a 2 MiB stack as a tokio worker has.
    let h = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let err = decode::order_statuses(&names, chrono_tz::Europe::Warsaw, &body).unwrap_err();
            err.to_string()
        })
        .unwrap();
    let err = h.join().unwrap();
    assert!(err.contains("nested deeper than 64"), "{err}");
}

#[test]
fn deep_session_key_reply_is_an_error_not_an_abort() {
    let mut s = String::from("<?xml version=\"1.0\"?><Envelope><Body><r>");
    s.push_str(&"<a>".repeat(200_000));
    s.push_str(&"</a>".repeat(200_000));
    s.push_str("</r></Body></Envelope>");
    let names = Names::default();
    let h = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || decode::session_key(&names, s.as_bytes()).unwrap_err().to_string())
        .unwrap();
    let err = h.join().unwrap();
    assert!(err.contains("nested deeper than 64"), "{err}");
}

/// An unsigned shipment notice within the default 64 KiB limit (policy `if_present`, the
/// default): anyone who can reach the receiver may send one.
#[test]
fn deep_unsigned_webhook_notice_within_64k_is_an_error_not_an_abort() {
    use loyalty_core::PushedRequest;
    use loyalty_idosell::{NoticeParser, SignaturePolicy};
    let depth = (65_536 - 64) / 7;
    let body = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
    assert!(body.len() <= 65_536);
    let h = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let p = NoticeParser::new(
                loyalty_http::Secret::new("ds-key"),
                SignaturePolicy::IfPresent,
                65_536,
                Names::default(),
                chrono_tz::Europe::Warsaw,
            );
            let headers: Vec<(String, String)> = vec![("Content-Type".into(), "text/xml".into())];
            p.parse(PushedRequest::new(&headers, body.as_bytes())).unwrap_err().to_string()
        })
        .unwrap();
    let err = h.join().unwrap();
    assert!(err.contains("nested deeper than 64"), "{err}");
}
