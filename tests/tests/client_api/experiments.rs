//! Experiments through the client: create, get, get-by-name, get-or-create, search, rename, delete, restore, tags.

use super::*;
use cairn_client::schema::ViewType;
use cairn_client::SearchExperiments;

/// Every experiment name a search reaches by following its page tokens.
async fn all_names(client: &Client, mut query: SearchExperiments) -> Vec<String> {
    let mut names = Vec::new();
    loop {
        let page = client.search_experiments(&query).await.unwrap();
        names.extend(page.items.into_iter().map(|e| e.name));
        match page.next_page_token {
            Some(t) => query.page_token = Some(t),
            None => return names,
        }
    }
}

#[test]
fn an_experiment_created_with_tags_reads_back_by_id_and_by_name() {
    let (_server, client) = server_and_client();
    block_on(async {
        let tags = [tag("team", "nlp"), tag("owner", "ada")];
        let id = client
            .create_experiment_with_tags("summaries", &tags)
            .await
            .unwrap();
        let by_id = client.get_experiment(&id).await.unwrap();
        assert_eq!(by_id.experiment_id, id);
        assert_eq!(by_id.name, "summaries");
        assert_eq!(by_id.lifecycle_stage, "active");
        assert_eq!(value_of(&by_id.tags, "team"), Some("nlp"));
        assert_eq!(value_of(&by_id.tags, "owner"), Some("ada"));
        let by_name = client.get_experiment_by_name("summaries").await.unwrap();
        assert_eq!(by_name, by_id);
        let plain = client.create_experiment("plain").await.unwrap();
        assert_ne!(plain, id, "every experiment gets an id of its own");
        assert!(client.get_experiment(&plain).await.unwrap().tags.is_empty());
    });
}

#[test]
fn creating_an_experiment_under_a_taken_name_is_refused_as_already_existing() {
    let (_server, client) = server_and_client();
    block_on(async {
        client.create_experiment("taken").await.unwrap();
        let err = client.create_experiment("taken").await.unwrap_err();
        assert!(!err.is_not_found());
        expect_api(err, 400, "RESOURCE_ALREADY_EXISTS");
    });
}

#[test]
fn get_or_create_returns_the_same_id_on_every_call_even_when_racing() {
    let (_server, client) = server_and_client();
    block_on(async {
        let first = client.get_or_create_experiment("sweep").await.unwrap();
        assert_eq!(
            client
                .get_experiment_by_name("sweep")
                .await
                .unwrap()
                .experiment_id,
            first,
            "the first call created it"
        );
        assert_eq!(
            client.get_or_create_experiment("sweep").await.unwrap(),
            first
        );
        // Two callers at once: whichever loses the create reads the winner's id.
        for round in 0..5 {
            let name = format!("race-{round}");
            let (a, b) = tokio::join!(
                client.get_or_create_experiment(&name),
                client.get_or_create_experiment(&name)
            );
            let (a, b) = (a.unwrap(), b.unwrap());
            assert_eq!(a, b, "both callers see one experiment");
            assert_eq!(
                client
                    .get_experiment_by_name(&name)
                    .await
                    .unwrap()
                    .experiment_id,
                a
            );
        }
    });
}

#[test]
fn search_experiments_filters_by_name_and_by_tag() {
    let (_server, client) = server_and_client();
    block_on(async {
        for (name, team) in [("sweep-a", "nlp"), ("sweep-b", "vision"), ("other", "nlp")] {
            client
                .create_experiment_with_tags(name, &[tag("team", team)])
                .await
                .unwrap();
        }
        let query = |filter: &str| SearchExperiments {
            filter: Some(filter.into()),
            max_results: Some(100),
            ..SearchExperiments::default()
        };
        let mut names = all_names(&client, query("name LIKE 'sweep-%'")).await;
        names.sort();
        assert_eq!(names, ["sweep-a", "sweep-b"]);
        let mut names = all_names(&client, query("tags.team = 'nlp'")).await;
        names.sort();
        assert_eq!(names, ["other", "sweep-a"]);
        let names = all_names(&client, query("name LIKE 'sweep-%' AND tags.team = 'nlp'")).await;
        assert_eq!(names, ["sweep-a"]);
    });
}

#[test]
fn search_experiments_without_a_page_size_returns_the_first_page() {
    let (_server, client) = server_and_client();
    block_on(async {
        let id = client.create_experiment("unsized").await.unwrap();
        let page = client
            .search_experiments(&SearchExperiments::default())
            .await
            .unwrap();
        let ids: Vec<_> = page
            .items
            .iter()
            .map(|e| e.experiment_id.as_str())
            .collect();
        assert!(ids.contains(&id.as_str()), "{ids:?}");
        assert!(ids.contains(&"0"), "the Default experiment is active too");
        assert!(page.next_page_token.is_none());
    });
}

#[test]
fn search_experiments_pages_through_every_experiment_exactly_once() {
    let (_server, client) = server_and_client();
    block_on(async {
        let mut created: Vec<String> = (0..7).map(|i| format!("paged-{i}")).collect();
        for name in &created {
            client.create_experiment(name).await.unwrap();
        }
        let mut query = SearchExperiments {
            filter: Some("name LIKE 'paged-%'".into()),
            order_by: vec!["name ASC".into()],
            max_results: Some(3),
            ..SearchExperiments::default()
        };
        let mut pages = Vec::new();
        loop {
            let page = client.search_experiments(&query).await.unwrap();
            pages.push(
                page.items
                    .iter()
                    .map(|e| e.name.clone())
                    .collect::<Vec<_>>(),
            );
            match page.next_page_token {
                Some(t) => query.page_token = Some(t),
                None => break,
            }
        }
        let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
        assert_eq!(sizes, [3, 3, 1]);
        created.sort();
        assert_eq!(pages.concat(), created, "in name order, none twice");
    });
}

#[test]
fn deleted_experiments_are_found_only_through_their_view_type_until_restored() {
    let (_server, client) = server_and_client();
    block_on(async {
        let kept = client.create_experiment("vt-kept").await.unwrap();
        let gone = client.create_experiment("vt-gone").await.unwrap();
        client.delete_experiment(&gone).await.unwrap();
        assert_eq!(
            client.get_experiment(&gone).await.unwrap().lifecycle_stage,
            "deleted"
        );
        let view = |view_type| SearchExperiments {
            filter: Some("name LIKE 'vt-%'".into()),
            max_results: Some(100),
            view_type,
            ..SearchExperiments::default()
        };
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        assert_eq!(all_names(&client, view(None)).await, ["vt-kept"]);
        assert_eq!(
            all_names(&client, view(Some(ViewType::ActiveOnly))).await,
            ["vt-kept"]
        );
        assert_eq!(
            all_names(&client, view(Some(ViewType::DeletedOnly))).await,
            ["vt-gone"]
        );
        assert_eq!(
            sorted(all_names(&client, view(Some(ViewType::All))).await),
            ["vt-gone", "vt-kept"]
        );
        client.restore_experiment(&gone).await.unwrap();
        assert_eq!(
            client.get_experiment(&gone).await.unwrap().lifecycle_stage,
            "active"
        );
        assert_eq!(
            sorted(all_names(&client, view(None)).await),
            ["vt-gone", "vt-kept"]
        );
        assert_eq!(client.get_experiment(&kept).await.unwrap().name, "vt-kept");
    });
}

#[test]
fn a_renamed_experiment_is_found_only_under_its_new_name() {
    let (_server, client) = server_and_client();
    block_on(async {
        let id = client.create_experiment("draft").await.unwrap();
        client.rename_experiment(&id, "final").await.unwrap();
        assert_eq!(client.get_experiment(&id).await.unwrap().name, "final");
        assert_eq!(
            client
                .get_experiment_by_name("final")
                .await
                .unwrap()
                .experiment_id,
            id
        );
        expect_not_found(client.get_experiment_by_name("draft").await);
    });
}

#[test]
fn experiment_tags_are_set_overwritten_and_deleted() {
    let (_server, client) = server_and_client();
    block_on(async {
        let id = client.create_experiment("tagged").await.unwrap();
        client
            .set_experiment_tag(&id, "stage", "dev")
            .await
            .unwrap();
        client.set_experiment_tag(&id, "note", "").await.unwrap();
        let tags = client.get_experiment(&id).await.unwrap().tags;
        assert_eq!(value_of(&tags, "stage"), Some("dev"));
        assert_eq!(
            value_of(&tags, "note"),
            Some(""),
            "an empty value is a value"
        );
        client
            .set_experiment_tag(&id, "stage", "prod")
            .await
            .unwrap();
        let tags = client.get_experiment(&id).await.unwrap().tags;
        assert_eq!(
            value_of(&tags, "stage"),
            Some("prod"),
            "the last value wins"
        );
        client.delete_experiment_tag(&id, "stage").await.unwrap();
        let tags = client.get_experiment(&id).await.unwrap().tags;
        assert_eq!(value_of(&tags, "stage"), None);
        assert_eq!(value_of(&tags, "note"), Some(""), "other tags stay");
    });
}

#[test]
fn experiment_calls_on_a_missing_experiment_are_not_found() {
    let (_server, client) = server_and_client();
    block_on(async {
        expect_not_found(client.get_experiment("987654").await);
        expect_not_found(client.get_experiment_by_name("never-made").await);
        expect_not_found(client.rename_experiment("987654", "x").await);
        expect_not_found(client.delete_experiment("987654").await);
        expect_not_found(client.restore_experiment("987654").await);
        expect_not_found(client.set_experiment_tag("987654", "k", "v").await);
    });
}
