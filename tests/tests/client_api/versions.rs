//! Model versions through the client: create from a run, get, update, delete, stage transitions, search, tags, download URI.

use super::registry::{from_run, source_run};
use super::*;
use cairn_client::{NewVersion, SearchRegistry};

#[test]
fn a_version_created_from_a_run_carries_its_source_run_and_tags() {
    let (_server, client) = server_and_client();
    block_on(async {
        let run = source_run(&client, 30.0).await;
        client
            .create_registered_model("m", None, &[])
            .await
            .unwrap();
        let new = NewVersion {
            description: Some("from the sweep".into()),
            tags: vec![tag("validated", "true")],
            ..from_run(&run)
        };
        let v1 = client.create_model_version("m", &new).await.unwrap();
        assert_eq!(v1.name, "m");
        assert_eq!(v1.version, "1");
        assert_eq!(v1.source, format!("runs:/{run}/model"));
        assert_eq!(v1.run_id, run);
        assert_eq!(v1.current_stage, "None");
        assert_eq!(v1.description, "from the sweep");
        assert_eq!(value_of(&v1.tags, "validated"), Some("true"));
        assert_eq!(client.get_model_version("m", "1").await.unwrap(), v1);
        let v2 = client
            .create_model_version("m", &from_run(&run))
            .await
            .unwrap();
        assert_eq!(v2.version, "2", "versions count up from 1");
        assert_eq!(v2.description, "");
        assert_eq!(
            client
                .get_model_version_download_uri("m", "1")
                .await
                .unwrap(),
            v1.source,
            "a runs:/ source is handed back as it was registered"
        );
        expect_not_found(client.get_model_version_download_uri("m", "9").await);
    });
}

#[test]
fn a_version_whose_source_names_another_run_is_refused() {
    let (_server, client) = server_and_client();
    block_on(async {
        let run = source_run(&client, 30.0).await;
        let other = source_run(&client, 30.0).await;
        client
            .create_registered_model("m", None, &[])
            .await
            .unwrap();
        let borrowed = NewVersion {
            run_id: Some(other),
            ..from_run(&run)
        };
        let err = client
            .create_model_version("m", &borrowed)
            .await
            .unwrap_err();
        expect_api(err, 400, "INVALID_PARAMETER_VALUE");
        let elsewhere = NewVersion {
            source: "https://example.com/model.tar".into(),
            ..NewVersion::default()
        };
        let err = client
            .create_model_version("m", &elsewhere)
            .await
            .unwrap_err();
        expect_api(err, 400, "INVALID_PARAMETER_VALUE");
        assert!(client
            .get_latest_versions("m", &[])
            .await
            .unwrap()
            .is_empty());
    });
}

#[test]
fn a_version_description_is_updated_and_a_deleted_number_is_never_reused() {
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
        let updated = client
            .update_model_version("m", "1", "retrained on more data")
            .await
            .unwrap();
        assert_eq!(updated.description, "retrained on more data");
        assert_eq!(
            client
                .get_model_version("m", "1")
                .await
                .unwrap()
                .description,
            "retrained on more data"
        );
        client.delete_model_version("m", "2").await.unwrap();
        expect_not_found(client.get_model_version("m", "2").await);
        expect_not_found(client.delete_model_version("m", "2").await);
        let next = client
            .create_model_version("m", &from_run(&run))
            .await
            .unwrap();
        assert_eq!(next.version, "3");
    });
}

#[test]
fn transition_stage_with_archive_existing_versions_archives_the_previous_holder() {
    let (_server, client) = server_and_client();
    block_on(async {
        let run = source_run(&client, 30.0).await;
        client
            .create_registered_model("m", None, &[])
            .await
            .unwrap();
        for _ in 0..3 {
            client
                .create_model_version("m", &from_run(&run))
                .await
                .unwrap();
        }
        let stage = |v: &str| {
            let client = client.clone();
            let v = v.to_owned();
            async move {
                client
                    .get_model_version("m", &v)
                    .await
                    .unwrap()
                    .current_stage
            }
        };
        let moved = client
            .transition_stage("m", "1", "Production", false)
            .await
            .unwrap();
        assert_eq!(moved.current_stage, "Production");
        // Without archiving, two versions may share a stage.
        client
            .transition_stage("m", "2", "production", false)
            .await
            .unwrap();
        assert_eq!(
            (stage("1").await, stage("2").await),
            ("Production".to_owned(), "Production".to_owned()),
            "stage names are read case-insensitively"
        );
        let moved = client
            .transition_stage("m", "3", "Production", true)
            .await
            .unwrap();
        assert_eq!(moved.current_stage, "Production");
        assert_eq!(
            (stage("1").await, stage("2").await, stage("3").await),
            (
                "Archived".to_owned(),
                "Archived".to_owned(),
                "Production".to_owned()
            )
        );
        let err = client
            .transition_stage("m", "1", "Canary", false)
            .await
            .unwrap_err();
        expect_api(err, 400, "INVALID_PARAMETER_VALUE");
        expect_not_found(client.transition_stage("m", "9", "Staging", false).await);
    });
}

#[test]
fn search_model_versions_finds_versions_by_model_and_by_run() {
    let (_server, client) = server_and_client();
    block_on(async {
        let first = source_run(&client, 30.0).await;
        let second = source_run(&client, 31.0).await;
        for name in ["a", "b"] {
            client
                .create_registered_model(name, None, &[])
                .await
                .unwrap();
        }
        client
            .create_model_version("a", &from_run(&first))
            .await
            .unwrap();
        client
            .create_model_version("a", &from_run(&second))
            .await
            .unwrap();
        client
            .create_model_version("b", &from_run(&first))
            .await
            .unwrap();
        let found = |filter: String| {
            let client = client.clone();
            async move {
                let page = client
                    .search_model_versions(&SearchRegistry {
                        filter: Some(filter),
                        ..SearchRegistry::default()
                    })
                    .await
                    .unwrap();
                let mut v: Vec<String> = page
                    .items
                    .into_iter()
                    .map(|v| format!("{}/{}", v.name, v.version))
                    .collect();
                v.sort();
                v
            }
        };
        assert_eq!(found("name = 'a'".into()).await, ["a/1", "a/2"]);
        assert_eq!(found(format!("run_id = '{first}'")).await, ["a/1", "b/1"]);
        assert_eq!(
            found(format!("name = 'a' AND run_id = '{first}'")).await,
            ["a/1"]
        );
        assert!(found("name = 'c'".into()).await.is_empty());
        let mut query = SearchRegistry {
            filter: Some(format!("run_id = '{first}'")),
            max_results: Some(1),
            ..SearchRegistry::default()
        };
        let page = client.search_model_versions(&query).await.unwrap();
        assert_eq!(page.items.len(), 1);
        query.page_token = Some(page.next_page_token.expect("a second page"));
        let page2 = client.search_model_versions(&query).await.unwrap();
        assert_eq!(page2.items.len(), 1);
        assert_ne!(page.items[0], page2.items[0]);
    });
}

#[test]
fn model_version_tags_are_set_overwritten_and_deleted() {
    let (_server, client) = server_and_client();
    block_on(async {
        let run = source_run(&client, 30.0).await;
        client
            .create_registered_model("m", None, &[])
            .await
            .unwrap();
        client
            .create_model_version("m", &from_run(&run))
            .await
            .unwrap();
        client
            .set_model_version_tag("m", "1", "qa", "pending")
            .await
            .unwrap();
        client
            .set_model_version_tag("m", "1", "owner", "ada")
            .await
            .unwrap();
        client
            .set_model_version_tag("m", "1", "qa", "passed")
            .await
            .unwrap();
        let tags = client.get_model_version("m", "1").await.unwrap().tags;
        assert_eq!(value_of(&tags, "qa"), Some("passed"));
        assert_eq!(value_of(&tags, "owner"), Some("ada"));
        client
            .delete_model_version_tag("m", "1", "qa")
            .await
            .unwrap();
        let tags = client.get_model_version("m", "1").await.unwrap().tags;
        assert_eq!(value_of(&tags, "qa"), None);
        assert_eq!(value_of(&tags, "owner"), Some("ada"));
        expect_not_found(client.set_model_version_tag("m", "7", "qa", "x").await);
    });
}
