//! Cairn's promotion gates and history through the client: set, list, replace, delete gates; refusals that name the clause; the recorded history with its user.

use super::registry::{from_run, source_run};
use super::*;
use cairn_client::{Auth, Config, GateTarget};

/// A model `m` with version 1 from a run with bleu 28.5 and version 2 from one with 31.
async fn two_versions(client: &Client) -> (String, String) {
    let low = source_run(client, 28.5).await;
    let high = source_run(client, 31.0).await;
    client
        .create_registered_model("m", None, &[])
        .await
        .unwrap();
    client
        .create_model_version("m", &from_run(&low))
        .await
        .unwrap();
    client
        .create_model_version("m", &from_run(&high))
        .await
        .unwrap();
    (low, high)
}

fn production() -> GateTarget {
    GateTarget::Stage("Production".into())
}

fn champion() -> GateTarget {
    GateTarget::Alias("champion".into())
}

#[test]
fn a_stage_gate_refuses_a_run_below_the_bar_and_names_the_clause() {
    let (_server, client) = server_and_client();
    block_on(async {
        let (low, _) = two_versions(&client).await;
        let before = now_ms();
        let gate = client
            .set_gate("m", &production(), "metrics.bleu >= 30")
            .await
            .unwrap();
        assert_eq!(
            (
                gate.name.as_str(),
                gate.stage.as_deref(),
                gate.alias.as_deref()
            ),
            ("m", Some("Production"), None)
        );
        assert_eq!(gate.filter, "metrics.bleu >= 30");
        assert!(gate.creation_timestamp >= before);

        let err = client
            .transition_stage("m", "1", "Production", false)
            .await
            .unwrap_err();
        let message = expect_api(err, 400, "INVALID_PARAMETER_VALUE");
        assert!(message.contains("metrics.bleu >= 30"), "{message}");
        assert!(
            message.contains("28.5"),
            "the run's actual value: {message}"
        );
        assert!(message.contains(&low), "the run: {message}");
        assert_eq!(
            client
                .get_model_version("m", "1")
                .await
                .unwrap()
                .current_stage,
            "None",
            "a refused promotion changes nothing"
        );
        let passed = client
            .transition_stage("m", "2", "Production", false)
            .await
            .unwrap();
        assert_eq!(passed.current_stage, "Production");
        let other_stage = client
            .transition_stage("m", "1", "Staging", false)
            .await
            .unwrap();
        assert_eq!(
            other_stage.current_stage, "Staging",
            "the gate guards its stage only"
        );
    });
}

#[test]
fn a_refusal_names_the_failing_clause_of_a_conjunction() {
    let (_server, client) = server_and_client();
    block_on(async {
        two_versions(&client).await;
        client
            .set_gate(
                "m",
                &production(),
                "metrics.bleu >= 20 AND params.model = 't5'",
            )
            .await
            .unwrap();
        let err = client
            .transition_stage("m", "2", "Production", false)
            .await
            .unwrap_err();
        let message = expect_api(err, 400, "INVALID_PARAMETER_VALUE");
        assert!(message.contains("params.model"), "{message}");
        assert!(
            !message.contains("bleu"),
            "the passing clause is not blamed: {message}"
        );
    });
}

#[test]
fn gates_are_listed_replaced_and_deleted_per_target() {
    let (_server, client) = server_and_client();
    block_on(async {
        two_versions(&client).await;
        assert!(client.list_gates("m").await.unwrap().is_empty());
        client
            .set_gate("m", &production(), "metrics.bleu >= 30")
            .await
            .unwrap();
        client
            .set_gate("m", &champion(), "metrics.bleu >= 35")
            .await
            .unwrap();
        let err = client.set_alias("m", "champion", "2").await.unwrap_err();
        let message = expect_api(err, 400, "INVALID_PARAMETER_VALUE");
        assert!(message.contains("metrics.bleu >= 35"), "{message}");
        let never_set = client.get_version_by_alias("m", "champion").await;
        expect_api(never_set.unwrap_err(), 400, "INVALID_PARAMETER_VALUE");

        // Setting a gate again replaces it.
        client
            .set_gate("m", &champion(), "metrics.bleu >= 31")
            .await
            .unwrap();
        let mut gates: Vec<(Option<String>, Option<String>, String)> = client
            .list_gates("m")
            .await
            .unwrap()
            .into_iter()
            .map(|g| (g.stage, g.alias, g.filter))
            .collect();
        gates.sort();
        assert_eq!(
            gates,
            [
                (None, Some("champion".into()), "metrics.bleu >= 31".into()),
                (Some("Production".into()), None, "metrics.bleu >= 30".into()),
            ]
        );
        client.set_alias("m", "champion", "2").await.unwrap();

        client.delete_gate("m", &production()).await.unwrap();
        let left: Vec<Option<String>> = client
            .list_gates("m")
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.alias)
            .collect();
        assert_eq!(left, [Some("champion".to_owned())]);
        let promoted = client
            .transition_stage("m", "1", "Production", false)
            .await
            .unwrap();
        assert_eq!(promoted.current_stage, "Production", "no gate, no refusal");
        let err = client
            .set_gate("m", &production(), "metrics.bleu >>> 30")
            .await
            .unwrap_err();
        expect_api(err, 400, "INVALID_PARAMETER_VALUE");
    });
}

#[test]
fn promotion_history_records_transitions_and_alias_moves_with_the_user() {
    let server = TestServer::start();
    let mut config = Config::new(&server.url);
    config.auth = Auth::Basic {
        username: "alice".into(),
        password: "s3cret".into(),
    };
    let alice = Client::with_config(config).unwrap();
    let anonymous = Client::new(&server.url);
    block_on(async {
        let (_, high) = two_versions(&alice).await;
        client_steps(&alice, &anonymous).await;
        let events = alice.promotion_history("m").await.unwrap();
        let summary: Vec<_> = events
            .iter()
            .map(|e| {
                (
                    e.kind.as_str(),
                    e.alias.as_deref(),
                    e.version.as_deref(),
                    e.from.as_deref(),
                    e.to.as_deref(),
                    e.user.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "stage",
                    None,
                    Some("2"),
                    Some("None"),
                    Some("Staging"),
                    "alice"
                ),
                (
                    "stage",
                    None,
                    Some("2"),
                    Some("Staging"),
                    Some("Production"),
                    "alice"
                ),
                (
                    "alias",
                    Some("champion"),
                    Some("2"),
                    None,
                    Some("2"),
                    "unknown"
                ),
                ("alias", Some("champion"), None, Some("2"), None, "alice"),
            ]
        );
        let first = &events[0];
        assert_eq!(first.run_id.as_deref(), Some(high.as_str()));
        assert_eq!(first.metrics.get("bleu"), Some(&serde_json::json!(31.0)));
        assert!(events.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
        alice
            .create_registered_model("quiet", None, &[])
            .await
            .unwrap();
        assert!(alice.promotion_history("quiet").await.unwrap().is_empty());
        expect_not_found(alice.promotion_history("never-registered").await);
    });
}

/// Promotions by alice, one refused, and an alias move by an anonymous client.
async fn client_steps(alice: &Client, anonymous: &Client) {
    alice
        .set_gate("m", &production(), "metrics.bleu >= 30")
        .await
        .unwrap();
    alice
        .transition_stage("m", "2", "Staging", false)
        .await
        .unwrap();
    alice
        .transition_stage("m", "1", "Production", false)
        .await
        .expect_err("refused by the gate, and not recorded");
    alice
        .transition_stage("m", "2", "Production", true)
        .await
        .unwrap();
    anonymous.set_alias("m", "champion", "2").await.unwrap();
    alice.delete_alias("m", "champion").await.unwrap();
}
