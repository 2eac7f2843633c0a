//! Registered models and aliases through the client: create, get, update, rename, delete, tags, search, latest versions, aliases.

use super::*;
use cairn_client::{NewVersion, SearchRegistry};

/// A run to register versions from; returns its id.
pub(super) async fn source_run(client: &Client, bleu: f64) -> String {
    let exp = client.get_or_create_experiment("registry").await.unwrap();
    let run = client.create_run(&exp, None).await.unwrap();
    let id = run.info.run_id;
    client.log_metric(&id, "bleu", bleu, 0).await.unwrap();
    id
}

/// A version of `name` from `run_id`, with MLflow's `runs:/<run>/model` source.
pub(super) fn from_run(run_id: &str) -> NewVersion {
    NewVersion {
        source: format!("runs:/{run_id}/model"),
        run_id: Some(run_id.to_owned()),
        ..NewVersion::default()
    }
}

#[test]
fn a_registered_model_is_created_read_updated_and_renamed() {
    let (_server, client) = server_and_client();
    block_on(async {
        let created = client
            .create_registered_model("summarizer", Some("first cut"), &[tag("team", "nlp")])
            .await
            .unwrap();
        assert_eq!(created.name, "summarizer");
        assert_eq!(created.description.as_deref(), Some("first cut"));
        assert_eq!(value_of(&created.tags, "team"), Some("nlp"));
        let got = client.get_registered_model("summarizer").await.unwrap();
        assert_eq!(got, created);

        let updated = client
            .update_registered_model("summarizer", "second cut")
            .await
            .unwrap();
        assert_eq!(updated.description.as_deref(), Some("second cut"));
        assert!(updated.last_updated_timestamp >= created.last_updated_timestamp);
        assert_eq!(
            client
                .get_registered_model("summarizer")
                .await
                .unwrap()
                .description
                .as_deref(),
            Some("second cut")
        );

        let run = source_run(&client, 30.0).await;
        client
            .create_model_version("summarizer", &from_run(&run))
            .await
            .unwrap();
        let renamed = client
            .rename_registered_model("summarizer", "abstractive")
            .await
            .unwrap();
        assert_eq!(renamed.name, "abstractive");
        expect_not_found(client.get_registered_model("summarizer").await);
        let moved = client.get_model_version("abstractive", "1").await.unwrap();
        assert_eq!(
            (moved.name.as_str(), moved.run_id.as_str()),
            ("abstractive", run.as_str())
        );
        let err = client
            .create_registered_model("abstractive", None, &[])
            .await
            .unwrap_err();
        expect_api(err, 400, "RESOURCE_ALREADY_EXISTS");
    });
}

#[test]
fn registered_model_tags_are_set_overwritten_and_deleted() {
    let (_server, client) = server_and_client();
    block_on(async {
        client
            .create_registered_model("m", None, &[])
            .await
            .unwrap();
        client
            .set_registered_model_tag("m", "owner", "ada")
            .await
            .unwrap();
        client
            .set_registered_model_tag("m", "tier", "gold")
            .await
            .unwrap();
        client
            .set_registered_model_tag("m", "owner", "grace")
            .await
            .unwrap();
        let tags = client.get_registered_model("m").await.unwrap().tags;
        assert_eq!(value_of(&tags, "owner"), Some("grace"));
        assert_eq!(value_of(&tags, "tier"), Some("gold"));
        client
            .delete_registered_model_tag("m", "owner")
            .await
            .unwrap();
        let tags = client.get_registered_model("m").await.unwrap().tags;
        assert_eq!(value_of(&tags, "owner"), None);
        assert_eq!(value_of(&tags, "tier"), Some("gold"));
    });
}

#[test]
fn a_deleted_registered_model_takes_its_versions_and_aliases_with_it() {
    let (_server, client) = server_and_client();
    block_on(async {
        let run = source_run(&client, 30.0).await;
        client
            .create_registered_model("gone", None, &[])
            .await
            .unwrap();
        client
            .create_model_version("gone", &from_run(&run))
            .await
            .unwrap();
        client.set_alias("gone", "champion", "1").await.unwrap();
        client.delete_registered_model("gone").await.unwrap();
        expect_not_found(client.get_registered_model("gone").await);
        expect_not_found(client.get_model_version("gone", "1").await);
        expect_not_found(client.get_version_by_alias("gone", "champion").await);
        expect_not_found(client.delete_registered_model("gone").await);
    });
}

#[test]
fn search_registered_models_filters_by_name_and_pages() {
    let (_server, client) = server_and_client();
    block_on(async {
        let mut made: Vec<String> = (0..5).map(|i| format!("search-{i}")).collect();
        for name in made.iter().chain([&"unrelated".to_owned()]) {
            client
                .create_registered_model(name, None, &[])
                .await
                .unwrap();
        }
        let mut query = SearchRegistry {
            filter: Some("name LIKE 'search-%'".into()),
            order_by: vec!["name DESC".into()],
            max_results: Some(2),
            ..SearchRegistry::default()
        };
        let mut pages = Vec::new();
        loop {
            let page = client.search_registered_models(&query).await.unwrap();
            pages.push(page.items.into_iter().map(|m| m.name).collect::<Vec<_>>());
            match page.next_page_token {
                Some(t) => query.page_token = Some(t),
                None => break,
            }
        }
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
        made.sort();
        made.reverse();
        assert_eq!(pages.concat(), made);
        let everything = client
            .search_registered_models(&SearchRegistry::default())
            .await
            .unwrap();
        assert_eq!(everything.items.len(), 6);
    });
}

#[test]
fn get_latest_versions_returns_the_newest_version_per_stage() {
    let (_server, client) = server_and_client();
    block_on(async {
        let run = source_run(&client, 30.0).await;
        client
            .create_registered_model("m", None, &[])
            .await
            .unwrap();
        for _ in 0..4 {
            client
                .create_model_version("m", &from_run(&run))
                .await
                .unwrap();
        }
        client
            .transition_stage("m", "1", "Production", false)
            .await
            .unwrap();
        client
            .transition_stage("m", "2", "Staging", false)
            .await
            .unwrap();
        client
            .transition_stage("m", "3", "Staging", false)
            .await
            .unwrap();
        let stage_of = |versions: Vec<cairn_client::schema::registry::ModelVersion>| {
            let mut v: Vec<(String, String)> = versions
                .into_iter()
                .map(|v| (v.current_stage, v.version))
                .collect();
            v.sort();
            v
        };
        let pairs = |items: &[(&str, &str)]| -> Vec<(String, String)> {
            items
                .iter()
                .map(|(s, v)| (s.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            stage_of(client.get_latest_versions("m", &[]).await.unwrap()),
            pairs(&[("None", "4"), ("Production", "1"), ("Staging", "3")])
        );
        assert_eq!(
            stage_of(client.get_latest_versions("m", &["Staging"]).await.unwrap()),
            pairs(&[("Staging", "3")])
        );
        assert!(client
            .get_latest_versions("m", &["Archived"])
            .await
            .unwrap()
            .is_empty());
        let model = client.get_registered_model("m").await.unwrap();
        assert_eq!(
            stage_of(model.latest_versions),
            pairs(&[("None", "4"), ("Production", "1"), ("Staging", "3")])
        );
        expect_not_found(client.get_latest_versions("nope", &[]).await);
    });
}

#[test]
fn an_alias_points_at_one_version_until_moved_or_deleted() {
    let (_server, client) = server_and_client();
    block_on(async {
        let run = source_run(&client, 30.0).await;
        client
            .create_registered_model("m", None, &[])
            .await
            .unwrap();
        for _ in 0..2 {
            client
                .create_model_version("m", &from_run(&run))
                .await
                .unwrap();
        }
        client.set_alias("m", "champion", "1").await.unwrap();
        let v = client.get_version_by_alias("m", "champion").await.unwrap();
        assert_eq!(v.version, "1");
        assert_eq!(v.aliases, ["champion"]);
        client.set_alias("m", "champion", "2").await.unwrap();
        assert_eq!(
            client
                .get_version_by_alias("m", "champion")
                .await
                .unwrap()
                .version,
            "2"
        );
        assert!(client
            .get_model_version("m", "1")
            .await
            .unwrap()
            .aliases
            .is_empty());
        let model = client.get_registered_model("m").await.unwrap();
        let aliases: Vec<(&str, &str)> = model
            .aliases
            .iter()
            .map(|a| (a.alias.as_str(), a.version.as_str()))
            .collect();
        assert_eq!(aliases, [("champion", "2")]);
        client.delete_alias("m", "champion").await.unwrap();
        // As MLflow answers it: an alias missing from an existing model is a bad
        // parameter, not a missing resource.
        let err = client
            .get_version_by_alias("m", "champion")
            .await
            .unwrap_err();
        assert!(!err.is_not_found());
        let message = expect_api(err, 400, "INVALID_PARAMETER_VALUE");
        assert!(message.contains("champion"), "{message}");
        let err = client.set_alias("m", "latest", "1").await.unwrap_err();
        expect_api(err, 400, "INVALID_PARAMETER_VALUE");
        expect_not_found(client.set_alias("m", "champion", "9").await);
    });
}

#[test]
fn registry_calls_on_a_missing_model_are_not_found() {
    let (_server, client) = server_and_client();
    block_on(async {
        expect_not_found(client.get_registered_model("nope").await);
        expect_not_found(client.update_registered_model("nope", "d").await);
        expect_not_found(client.rename_registered_model("nope", "other").await);
        expect_not_found(client.set_registered_model_tag("nope", "k", "v").await);
        expect_not_found(client.get_model_version("nope", "1").await);
        expect_not_found(client.get_version_by_alias("nope", "champion").await);
        let run = source_run(&client, 1.0).await;
        expect_not_found(client.create_model_version("nope", &from_run(&run)).await);
    });
}
