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
                    "429": error_response("rate_limited: more signed requests from this account than \
                        rate_limit_per_s (default 200/s, bursts of 400); see the Retry-After header. The operator \
                        and the guardians are not limited"),
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
            "/v1/leases": get_json("Leases; ?tenant=KEY&open=true|false"),
            "/v1/guardians": get_json("The guardian set, signature threshold (ceil(2n/3) unless configured), oracle quorum and parameter delay"),
            "/v1/param-changes": get_json("Parameter changes with signers, signatures/threshold, approved_at, effective_at, applied_at; ?status=pending|approved|applied"),
            "/v1/mint/reports": get_json("Minting reports: period, total, hash, signatures/threshold, minted_at, scaled_to_cap, nodes; next period to close"),
            "/v1/mint/reports/{period}": get_json("One minting report in full: receipts (node, uptime, violations, reward) and the canonical JSON whose blake3 is the hash (404 report_not_found)"),
            "/v1/vesting": get_json("Vesting records of the nodes of an owner's farms: total, released, locked, start, vested and releasable now; ?owner=KEY"),
            "/v1/nodes/{id}/uptime": get_json("A node's report key, first report, last report and the running uptime of its open minting period(s) (404 node_not_found)"),
            "/v1/market/search": get_json("Listed slices meeting per-slice requirements, cheapest first: {results, count}; \
                ?min_cores&min_passmark&min_mem_gb&min_ssd_gb&min_ai_mem_gb&min_ai_tps&certified_only=true|false&farm=ID\
                &max_price=CC&billing=hourly|monthly&min_free=N&limit=1..10000 (all optional; 400 invalid_query names a bad parameter)"),
            "/v1/market/explain": get_json("Why n_slices cannot be had, one reason per blocking requirement: {reasons, satisfiable}; \
                the requirement parameters of /v1/market/search, n_slices (default 1), max_price"),
            "/v1/market/standing-bids": get_json("Standing bids (bid tiers) with remaining, filled and escrow; ?buyer=KEY&open=true|false"),
            "/v1/market/requests": get_json("Capacity requests (reverse auctions) with their public offers and outcomes; ?requester=KEY&open=true|false"),
            "/v1/market/requests/{id}": get_json("One capacity request: status, offers cheapest first, outcome and reasons (404 capacity_request_not_found)"),
            "/v1/farming-pools": get_json("Farming pools: rules, member farms, pending joins and leaves"),
            "/v1/farming-pools/{id}": get_json("One farming pool with its member nodes (404 pool_not_found)"),
            "/v1/calc/node": get_json("Farmer income and ROI of one catalogue model, as `tfeco calc node --json`; \
                ?model&utilization&price=min|max|CC (required), share_bps, offered_slices, hw_cost=whole|exact, cc_usd, amortization_months"),
            "/v1/calc/table": get_json("The catalogue's income table, as `tfeco calc table --json`: {params, rows}; \
                ?income_factor_min&income_factor_max&cc_usd&amortization_months"),
            "/v1/exchange/markets": get_json("In-wallet exchange markets: rules (batch_interval_s, lock_window_s, \
                max_orders_per_account_per_batch, min_order_base, fee_bps, identity_required), current batch, \
                next_clear_at, lock_window_starts_at, last_price and open order counts per side (orders are sealed)"),
            "/v1/exchange/markets/{id}/batches": get_json("Published batches of a market, newest first: price, volume, \
                imbalance, orders, filled_orders and the depth after the clear (no fills of others); ?limit=1..100 \
                (default 20); 404 market_not_found"),
            "/v1/exchange/markets/{id}/depth": get_json("The resting depth after the latest clear of a market: \
                {batch, cleared_at, price, levels: [{price, buy, sell}]}; 404 market_not_found"),
            "/v1/exchange/orders": get_json("Signed read (headers x-tfeco-account, x-tfeco-timestamp, \
                x-tfeco-signature over the path): the reader's own open orders with escrow, expiry batch and whether \
                the lock window is on"),
            "/v1/exchange/fills": get_json("Signed read: the reader's own fills in the batches the node keeps \
                (market_id, batch, cleared_at, price, order_id, side, filled, quote paid or received, fee), newest first")
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
