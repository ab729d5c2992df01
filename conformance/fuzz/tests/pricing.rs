//! The pricing JSON input of `docs/pricing.md` (`loyalty_core::pricing::json`): parsing never
//! panics, and whatever parses is priced and rendered without panicking either.

use loyalty_fuzz::decoder_targets;

decoder_targets! {
    /// `parse_input`, then `price` and `render_output` on what parses.
    pricing_json => |input: &[u8]| {
        let Ok(text) = std::str::from_utf8(input) else { return };
        if let Ok(request) = loyalty_core::pricing::json::parse_input(text) {
            if let Ok(priced) = request.price() {
                let _ = loyalty_core::pricing::json::render_output(&priced);
            }
        }
    };
}
