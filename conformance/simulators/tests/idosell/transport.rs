//! SOAP envelope, protocol faults, JSON twin, names table, language, journal, settings (§2, §6,
//! §9; checklist 9, 22, 24, 25).

use loyalty_sim::idosell::{demo, FaultLanguage, Gateway, IdosellSettings, Transports, UnknownElements};

use super::support::*;

#[tokio::test]
async fn replies_are_soap_text_xml_with_typed_errors_block() {
    // Checklist 22 (simulator side) and §6.1.
    let t = sim().await;
    let r = t.call(Gateway::GetCouriers, "").await;
    assert_eq!(r.content_type, "text/xml; charset=utf-8");
    assert!(r
        .body
        .contains("<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\""));
    assert!(r.body.contains("<ns1:getCouriersResponse><response xsi:type=\"ns1:responseType\"><errors xsi:type=\"ns1:errorsType\"><faultCode xsi:type=\"xsd:int\">0</faultCode><faultString xsi:type=\"xsd:string\"></faultString></errors>"), "{}", r.body);
    assert!(r.body.contains("<couriers SOAP-ENC:arrayType=\"ns1:courierType[3]\" xsi:type=\"SOAP-ENC:Array\"><item xsi:type=\"ns1:courierType\">"), "{}", r.body);
}

#[tokio::test]
async fn results_key_casing_varies_per_gate() {
    // §6.1: `Results` in the orders gate, `results` elsewhere.
    let t = sim().await;
    t.place_coffee_order("SHOP-1").await;
    assert!(t.call(Gateway::GetOrderStatus, "").await.body.contains("<Results xsi:type="));
    assert!(t.call(Gateway::GetCouriers, "").await.body.contains("<results xsi:type="));
}

#[tokio::test]
async fn business_and_auth_errors_are_http_200_never_a_soap_fault() {
    // Checklist 9.
    let t = sim().await;
    let r = t.authenticate(demo::LOGIN, "bad").await;
    assert_eq!((r.status, r.fault_code()), (200, 1));
    assert_eq!(r.fault_string(), "Logowanie nie powiodło się");
    assert!(!r.body.contains("Fault>"));
}

#[tokio::test]
async fn unparsable_xml_answers_a_soap_1_1_fault() {
    // Checklist 9.
    let t = sim().await;
    let r = t.post(&t.gate_path(Gateway::GetCouriers), "<SOAP-ENV:Envelope><SOAP-ENV:Body><x>", &[]).await;
    assert_eq!(r.status, 500);
    assert!(
        r.body.contains("<SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>"),
        "{}",
        r.body
    );
    assert_eq!(r.content_type, "text/xml; charset=utf-8");
}

#[tokio::test]
async fn an_unknown_method_answers_a_soap_server_fault() {
    let t = sim().await;
    let r = t.post(&t.gate_path(Gateway::GetCouriers), envelope("placeOrderz", ""), &[]).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.tag("faultcode").as_deref(), Some("SOAP-ENV:Server"));
    assert_eq!(r.tag("faultstring").as_deref(), Some("Procedure 'placeOrderz' not present"));
}

#[tokio::test]
async fn method_names_match_case_insensitively_like_php_functions() {
    let t = sim().await;
    let r = t
        .post(
            &t.gate_path(Gateway::Authenticate),
            envelope(
                "authenticate",
                &format!("<login>{}</login><systemKey>{}</systemKey>", demo::LOGIN, t.today_key()),
            ),
            &[],
        )
        .await;
    assert_eq!(r.fault_code(), 0);
}

#[tokio::test]
async fn element_prefixes_do_not_matter() {
    let t = sim().await;
    let body = format!(
        "<ns1:login>{}</ns1:login><systemKey xsi:type=\"xsd:string\">{}</systemKey>",
        demo::LOGIN,
        t.today_key()
    );
    assert_eq!(t.raw(Gateway::Authenticate, &body).await.fault_code(), 0);
}

#[tokio::test]
async fn element_names_keep_their_case() {
    // §9.3 names are exact; a SOAP 1.1 PHP server matches parameters and fields by exact name.
    let t = sim().await;
    let key = t.today_key();
    let r = t
        .raw(Gateway::Authenticate, &format!("<LOGIN>{}</LOGIN><systemKey>{key}</systemKey>", demo::LOGIN))
        .await;
    assert_eq!(r.fault_code(), 5, "{}", r.body);
    assert!(r.fault_string().ends_with("request.LOGIN"), "{}", r.fault_string());
    let r = t
        .raw(Gateway::Authenticate, &format!("<login>{}</login><SystemKey>{key}</SystemKey>", demo::LOGIN))
        .await;
    assert_eq!(r.fault_code(), 5, "{}", r.body);
    // Under the ignore setting a miscased element is simply absent.
    t.probe.set_settings(settings(|s| s.unknown_elements = UnknownElements::Ignore));
    let r = t
        .raw(Gateway::Authenticate, &format!("<Login>{}</Login><systemKey>{key}</systemKey>", demo::LOGIN))
        .await;
    assert_eq!(r.fault_code(), 1, "{}", r.body);
    let session = t.login().await;
    let r = t
        .raw(
            Gateway::GetCouriers,
            &format!(
                "<SessionKey>{session}</SessionKey><dropshippingKey>{}</dropshippingKey>",
                demo::DROPSHIPPING_KEY
            ),
        )
        .await;
    assert_eq!(r.fault_code(), 3, "{}", r.body);
    let r = t
        .call(
            Gateway::CheckAvailability,
            &params(
                &products(&[line("COF-500", "internal", "1")])
                    .replace("<code ", "<Code ")
                    .replace("</code>", "</Code>"),
            ),
        )
        .await;
    assert_eq!(r.item_codes(), vec![5], "{}", r.body);
}

#[tokio::test]
async fn json_twin_names_keep_their_case() {
    let t = sim().await;
    let path = t.gate_path(Gateway::Authenticate).replace("/soap", "/json");
    let post = |body: serde_json::Value| {
        let (http, url) = (t.http.clone(), t.url(&path));
        async move { http.post(url).json(&body).send().await.unwrap().json::<serde_json::Value>().await.unwrap() }
    };
    let v = post(serde_json::json!({"Login": demo::LOGIN, "systemKey": t.today_key()})).await;
    assert_eq!(v["errors"]["faultCode"], 5, "{v}");
    let v = post(serde_json::json!({"Request": {"login": demo::LOGIN, "systemKey": t.today_key()}})).await;
    assert_eq!(v["errors"]["faultCode"], 5, "{v}");
    let v = post(serde_json::json!({"request": {"login": demo::LOGIN, "systemKey": t.today_key()}})).await;
    assert_eq!(v["errors"]["faultCode"], 0, "{v}");
}

fn soap12(method: &str, request: &str) -> String {
    envelope(method, request)
        .replace("http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope")
        .replace("http://schemas.xmlsoap.org/soap/encoding/", "http://www.w3.org/2003/05/soap-encoding")
}

fn login_request(t: &T) -> String {
    format!("<login>{}</login><systemKey>{}</systemKey>", demo::LOGIN, t.today_key())
}

#[tokio::test]
async fn a_soap_1_2_envelope_answers_a_version_mismatch_fault() {
    // §2.1 [C]: SOAP 1.1 with the SOAP-ENV 1.1 namespace; SOAP 1.1 §4.4.1 VersionMismatch.
    let t = sim().await;
    let path = t.gate_path(Gateway::Authenticate);
    let r = t.post(&path, soap12("Authenticate", &login_request(&t)), &[]).await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.content_type, "text/xml; charset=utf-8");
    assert_eq!(r.tag("faultcode").as_deref(), Some("SOAP-ENV:VersionMismatch"), "{}", r.body);
    assert!(r
        .body
        .contains("<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\">"));
    assert_eq!(t.probe.sessions_issued(demo::LOGIN), 0, "nothing was served");
    // The SOAP 1.2 media type is refused the same way, whatever the envelope.
    let r = t
        .post(
            &path,
            envelope("Authenticate", &login_request(&t)),
            &[("content-type", "application/soap+xml; charset=utf-8")],
        )
        .await;
    assert_eq!(r.tag("faultcode").as_deref(), Some("SOAP-ENV:VersionMismatch"), "{}", r.body);
    assert_eq!(t.probe.sessions_issued(demo::LOGIN), 0);
}

#[tokio::test]
async fn an_envelope_in_another_or_no_namespace_answers_a_version_mismatch_fault() {
    let t = sim().await;
    let path = t.gate_path(Gateway::Authenticate);
    let wrong = envelope("Authenticate", &login_request(&t))
        .replace("http://schemas.xmlsoap.org/soap/envelope/", "http://schemas.xmlsoap.org/soap/envelope");
    let r = t.post(&path, wrong, &[]).await;
    assert_eq!(
        (r.status, r.tag("faultcode").as_deref()),
        (500, Some("SOAP-ENV:VersionMismatch")),
        "{}",
        r.body
    );
    let bare = format!(
        "<Envelope><Body><Authenticate><request>{}</request></Authenticate></Body></Envelope>",
        login_request(&t)
    );
    let r = t.post(&path, bare, &[]).await;
    assert_eq!(
        (r.status, r.tag("faultcode").as_deref()),
        (500, Some("SOAP-ENV:VersionMismatch")),
        "{}",
        r.body
    );
    assert_eq!(t.probe.sessions_issued(demo::LOGIN), 0);
}

#[tokio::test]
async fn a_foreign_encoding_style_or_a_body_outside_the_namespace_answers_a_client_fault() {
    let t = sim().await;
    let path = t.gate_path(Gateway::Authenticate);
    let good = envelope("Authenticate", &login_request(&t));
    let style = good.replace(
        "SOAP-ENV:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"",
        "SOAP-ENV:encodingStyle=\"http://www.w3.org/2003/05/soap-encoding\"",
    );
    assert_ne!(style, good);
    let body = good.replace("SOAP-ENV:Body", "Body");
    for bad in [style, body] {
        let r = t.post(&path, bad, &[]).await;
        assert_eq!((r.status, r.tag("faultcode").as_deref()), (500, Some("SOAP-ENV:Client")), "{}", r.body);
    }
    assert_eq!(t.probe.sessions_issued(demo::LOGIN), 0);
    let header = good.replace("<SOAP-ENV:Body>", "<SOAP-ENV:Header></SOAP-ENV:Header><SOAP-ENV:Body>");
    assert_eq!(t.post(&path, header, &[]).await.fault_code(), 0, "a Header is allowed");
}

#[tokio::test]
async fn a_wrong_content_type_answers_a_client_fault() {
    // §2.2 / checklist 22: `text/xml; charset=utf-8`. How a wrong one is answered is a simulator
    // decision: the SOAP 1.1 Client fault of a malformed request.
    let t = sim().await;
    let url = t.url(&t.gate_path(Gateway::Authenticate));
    let body = envelope("Authenticate", &login_request(&t));
    for ct in [
        Some("application/json"),
        Some("text/plain; charset=utf-8"),
        Some("text/xml; charset=iso-8859-2"),
        Some("application/xml"),
        None,
    ] {
        let mut rb = t.http.post(&url).header("SOAPAction", "\"\"").body(body.clone());
        if let Some(ct) = ct {
            rb = rb.header("content-type", ct);
        }
        let r = rb.send().await.unwrap();
        assert_eq!(r.status(), 500, "{ct:?}");
        assert_eq!(r.headers()["content-type"], "text/xml; charset=utf-8");
        let text = r.text().await.unwrap();
        assert_eq!(tags(&text, "faultcode"), vec!["SOAP-ENV:Client".to_string()], "{ct:?}: {text}");
    }
    assert_eq!(t.probe.sessions_issued(demo::LOGIN), 0);
    for ct in ["text/xml; charset=utf-8", "text/xml; charset=\"UTF-8\"", "Text/XML", "text/xml;charset=utf-8"]
    {
        let r = t.post(&t.gate_path(Gateway::Authenticate), body.clone(), &[("content-type", ct)]).await;
        assert_eq!(r.fault_code(), 0, "{ct}: {}", r.body);
    }
}

#[tokio::test]
async fn an_unknown_element_is_refused_with_5_naming_it() {
    // Simulator decision (settings `unknown_elements`).
    let t = sim().await;
    t.import(&[line(demo::COFFEE_INTERNAL, "internal", "1")]).await;
    let p = order(RECIPIENT_PL, demo::COURIER_DOMESTIC, None)
        .replace("</params>", "<shopOrderRefernce>X</shopOrderRefernce></params>");
    let r = t.call(Gateway::PlaceOrder, &p).await;
    assert_eq!(r.fault_code(), 5);
    assert!(r.fault_string().ends_with("params.shopOrderRefernce"), "{}", r.fault_string());
}

#[tokio::test]
async fn ignore_setting_accepts_unknown_elements() {
    let t = sim_with(settings(|s| s.unknown_elements = UnknownElements::Ignore)).await;
    t.import(&[line(demo::COFFEE_INTERNAL, "internal", "1")]).await;
    let p =
        order(RECIPIENT_PL, demo::COURIER_DOMESTIC, None).replace("</params>", "<extra>X</extra></params>");
    assert_eq!(t.call(Gateway::PlaceOrder, &p).await.fault_code(), 0);
}

#[tokio::test]
async fn fault_texts_are_polish_by_default_and_english_on_request() {
    // §6.3 messages.
    let t = sim().await;
    let path = t.gate_path(Gateway::Authenticate);
    let body = envelope("Authenticate", "<login>x</login><systemKey>y</systemKey>");
    assert_eq!(t.post(&path, body.clone(), &[]).await.fault_string(), "Logowanie nie powiodło się");
    assert_eq!(t.post(&format!("{path}&lang=eng"), body.clone(), &[]).await.fault_string(), "Login failed");
    assert_eq!(
        t.post(&path, body.clone(), &[("accept-language", "en-GB,en;q=0.8")]).await.fault_string(),
        "Login failed"
    );
    assert_eq!(
        t.post(&format!("{path}&lang=pol"), body, &[("accept-language", "en")]).await.fault_string(),
        "Logowanie nie powiodło się"
    );
}

#[tokio::test]
async fn language_settings_force_a_language() {
    let t = sim_with(settings(|s| s.fault_language = FaultLanguage::English)).await;
    assert_eq!(t.authenticate("x", "y").await.fault_string(), "Login failed");
    t.probe.set_settings(settings(|s| s.fault_language = FaultLanguage::PolishOnly));
    let path = format!("{}&lang=eng", t.gate_path(Gateway::Authenticate));
    let r = t.post(&path, envelope("Authenticate", "<login>x</login><systemKey>y</systemKey>"), &[]).await;
    assert_eq!(r.fault_string(), "Logowanie nie powiodło się");
}

#[tokio::test]
async fn the_json_twin_answers_the_same_logical_message() {
    // §2.1 / §9.2 item 5.
    let t = sim().await;
    let path = t.gate_path(Gateway::Authenticate).replace("/soap", "/json");
    let r = t
        .http
        .post(t.url(&path))
        .json(&serde_json::json!({"login": demo::LOGIN, "systemKey": t.today_key()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/json; charset=utf-8");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["errors"], serde_json::json!({"faultCode": 0, "faultString": ""}));
    let session = v["sessionKey"].as_str().unwrap().to_string();
    let path = t.gate_path(Gateway::CheckAvailability).replace("/soap", "/json");
    let body = serde_json::json!({"sessionKey": session, "dropshippingKey": demo::DROPSHIPPING_KEY,
        "params": {"products": [{"code": "COF-500", "codeType": "internal", "quantity": 2}]}});
    let v: serde_json::Value =
        t.http.post(t.url(&path)).json(&body).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["results"]["products"][0]["available"], true, "{v}");
    assert_eq!(v["results"]["products"][0]["availableQuantity"], 120);
}

#[tokio::test]
async fn soap_only_setting_switches_the_json_twin_off() {
    let t = sim_with(settings(|s| s.transports = Transports::SoapOnly)).await;
    let path = t.gate_path(Gateway::GetCouriers).replace("/soap", "/json");
    assert_eq!(t.http.post(t.url(&path)).body("{}").send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn changing_a_gate_path_in_settings_changes_the_url_served() {
    // Checklist 24.
    let mut s = IdosellSettings::default();
    s.names.gates.get_couriers.path = "/customer-api/couriers/soap".into();
    let t = sim_with(s).await;
    assert_eq!(t.gate_path(Gateway::GetCouriers), "/customer-api/couriers/soap");
    assert_eq!(t.call(Gateway::GetCouriers, "").await.fault_code(), 0);
    let old = t.post("/api/?gate=customerapi/getCouriers/1/soap", envelope("getCouriers", ""), &[]).await;
    assert_eq!(old.status, 404);
}

#[tokio::test]
async fn renamed_methods_and_wrappers_come_from_the_names_table() {
    // Checklist 24: method and element names from one table.
    let mut s = IdosellSettings::default();
    s.names.gates.authenticate.method = "authenticateCustomer".into();
    s.names.login = "clientLogin".into();
    s.names.response = "return".into();
    let t = sim_with(s).await;
    let r = t
        .raw(
            Gateway::Authenticate,
            &format!("<clientLogin>{}</clientLogin><systemKey>{}</systemKey>", demo::LOGIN, t.today_key()),
        )
        .await;
    assert_eq!(r.fault_code(), 0, "{}", r.body);
    assert!(r.body.contains("<ns1:authenticateCustomerResponse><return xsi:type="));
}

#[tokio::test]
async fn gates_may_share_a_path_and_are_told_apart_by_method() {
    let mut s = IdosellSettings::default();
    for g in Gateway::ALL {
        s.names.gates.get_mut(g).path = "/customer/soap".into();
    }
    let t = sim_with(s).await;
    assert_eq!(t.call(Gateway::GetCouriers, "").await.tags("courierId").len(), 3);
    assert_eq!(t.server.handle().journal().entries().last().unwrap().route.as_deref(), Some("G5"));
}

#[tokio::test]
async fn settings_file_overrides_a_subset_and_refuses_unknown_keys() {
    // §9.4: a TOML settings file.
    let s: IdosellSettings = toml::from_str(
        "session_lifetime_secs = 600\nbasket_import = \"append\"\n[names.gates.place_order]\npath = \"/x/soap\"\n",
    )
    .unwrap();
    assert_eq!(s.session_lifetime_secs, 600);
    assert_eq!(s.names.gates.place_order.path, "/x/soap");
    assert_eq!(s.names.gates.place_order.method, "placeOrder");
    assert_eq!(s.webhook_retry_secs, vec![60, 300, 1800, 7200, 43200]);
    assert!(toml::from_str::<IdosellSettings>("sesion_lifetime_secs = 1").is_err());
}

#[tokio::test]
async fn a_get_on_a_gate_answers_405_and_an_unknown_path_404() {
    let t = sim().await;
    assert_eq!(t.http.get(t.url(&t.gate_path(Gateway::GetCouriers))).send().await.unwrap().status(), 405);
    assert_eq!(t.http.post(t.url("/api/?gate=nothing")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn the_journal_never_holds_a_secret() {
    // Checklist 25 (simulator side): systemKey, sessionKey, dropshippingKey, passwords.
    let t = sim().await;
    let key = t.today_key();
    let session = t.login().await;
    t.place_coffee_order("SHOP-1").await;
    let json_path = t.gate_path(Gateway::GetCouriers).replace("/soap", "/json");
    t.http
        .post(t.url(&json_path))
        .json(&serde_json::json!({"sessionKey": session, "dropshippingKey": demo::DROPSHIPPING_KEY, "password": demo::PASSWORD}))
        .send()
        .await
        .unwrap();
    t.http.post(t.url(&format!("/_sim/webhooks/deliver?password={}", demo::PASSWORD))).send().await.unwrap();
    let dump = format!("{:?}", t.server.handle().journal().entries());
    for secret in
        [key.as_str(), session.as_str(), demo::DROPSHIPPING_KEY, demo::PASSWORD, demo::PASSWORD_SHA1]
    {
        assert!(!dump.contains(secret), "journal leaks {secret}");
    }
    assert!(dump.contains("<systemKey>[redacted]</systemKey>"));
}

#[tokio::test]
async fn json_twin_writes_decimals_with_their_own_digits() {
    // rust_decimal all the way: 2 × 0.55 kg is written 1.10, not 1.1000000000000001.
    let t = sim().await;
    let session = t.login().await;
    let path = t.gate_path(Gateway::GetCouriersForOrder).replace("/soap", "/json");
    let body = serde_json::json!({"sessionKey": session, "dropshippingKey": demo::DROPSHIPPING_KEY, "params": {
        "products": [{"code": "COF-500", "codeType": "internal", "quantity": "2"}],
        "address": {"country": "PL", "postcode": "00-838"}}});
    let text = t.http.post(t.url(&path)).json(&body).send().await.unwrap().text().await.unwrap();
    assert!(text.contains("\"weight\":1.10,"), "{text}");
    assert!(text.contains("\"deliveryCost\":15.55,"), "{text}");
}
