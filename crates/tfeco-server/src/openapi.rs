//! The OpenAPI 3.1 description of the HTTP API, served at `/openapi.json`.

use serde_json::{json, Value};

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn get_json(summary: &str) -> Value {
    json!({ "get": { "summary": summary, "responses": { "200": { "description": "OK", "content": { "application/json": {} } } } } })
}

/// The OpenAPI document.
pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "TFGrid Economy node API",
            "version": "1",
            "description": "Writes are ed25519-signed requests: the signature covers the bytes \
                `tfeco/v1/request\\0` followed by the postcard encoding of the body {signer, nonce, expiry, command}. \
                Nonces are per account and strictly increasing; expired or replayed requests are refused. \
                Amounts are decimal strings with at most 7 decimals."
        },
        "paths": {
            "/v1/tx": { "post": {
                "summary": "Submit a signed command; answered after it is durable in the journal",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SignedRequest" } } } },
                "responses": {
                    "200": { "description": "Applied and durable: {seq, events}" },
                    "400": error_response("Malformed request (malformed_json, unknown_field, amount_too_many_decimals, amount_negative, amount_overflow, invalid_request, expiry_too_far)"),
                    "401": error_response("bad_signature or request_expired"),
                    "403": error_response("not_authorized"),
                    "404": error_response("account_not_found, farm_not_found, node_not_found, lease_not_found, unknown_model, withdrawal_not_found"),
                    "409": error_response("nonce_reused, account_exists, attestation_conflict, farm_name_taken"),
                    "413": { "description": "Body larger than the limit" },
                    "422": error_response("Any other rejection of the rules, e.g. balance_low, cc_not_transferable, price_out_of_band, price_unavailable, unlock_closed, slices_unavailable"),
                    "503": error_response("unavailable: the node is stopping")
                }
            } },
            "/v1/status": get_json("Journal head, state hash, time, invariant status"),
            "/v1/supply": get_json("Supply per asset, flows, vault, burns, invariants"),
            "/v1/prices": get_json("Effective oracle prices and submissions"),
            "/v1/catalogue": get_json("Node models with slice bands and hourly prices"),
            "/v1/accounts/{key}": get_json("Balances, nonce and open leases of an account"),
            "/v1/system-accounts": get_json("Balances of vault, pool2.reserve, treasury, escrow and exit pool accounts"),
            "/v1/farms": get_json("Farms"),
            "/v1/nodes": get_json("Nodes with prices and free slices; ?farm=ID"),
            "/v1/leases": get_json("Leases; ?tenant=KEY&open=true|false")
        },
        "components": { "schemas": {
            "Error": { "type": "object", "required": ["code", "message"], "properties": {
                "code": { "type": "string" }, "message": { "type": "string" }, "detail": {} } },
            "SignedRequest": { "type": "object", "required": ["body", "signature"], "additionalProperties": false, "properties": {
                "body": { "type": "object", "required": ["signer", "nonce", "expiry", "command"], "additionalProperties": false, "properties": {
                    "signer": { "type": "string", "description": "ed25519 public key, 64 hex characters" },
                    "nonce": { "type": "integer", "minimum": 1 },
                    "expiry": { "type": "integer", "description": "unix seconds" },
                    "command": { "type": "object", "description": "One of: register_account, transfer, attest_deposit, request_withdrawal, attest_withdrawal, submit_price, enter_with_tft, enter_with_fiat, lock_tft, unlock_tfp, register_farm, register_node, set_slice_price, open_lease, cancel_lease, tick; e.g. {\"transfer\": {\"asset\": \"TFT\", \"to\": \"<hex>\", \"amount\": \"12.5\"}}" }
                } },
                "signature": { "type": "string", "description": "64-byte ed25519 signature, hex" }
            } }
        } }
    })
}
