//! `Range: bytes=` downloads: 206 with Content-Range, 416 when unsatisfiable.

use super::*;

const SIZE: usize = 1000;

fn ranged(art: &Artifacts, url: &str, range: &str) -> Response {
    art.http
        .get(url)
        .header("range", range)
        .send()
        .expect("GET with Range")
}

/// A 1000-byte file; returns its URL and bytes.
fn setup(server: &TestServer) -> (String, Vec<u8>) {
    let art = Artifacts::of(server);
    let (_, root) = new_run(server);
    let bytes = random_bytes(SIZE, fresh_seed());
    let path = format!("{root}/data.bin");
    art.upload(&path, &bytes);
    (art.url(&path), bytes)
}

#[track_caller]
fn expect_partial(r: Response, whole: &[u8], from: usize, to: usize) {
    assert_eq!(r.status().as_u16(), 206);
    assert_eq!(
        header(&r, "content-range"),
        format!("bytes {from}-{to}/{}", whole.len())
    );
    assert_eq!(header(&r, "content-length"), (to + 1 - from).to_string());
    assert_eq!(
        header(&r, "etag"),
        format!("\"{}\"", sha256_hex(whole)),
        "the ETag names the whole file, not the range"
    );
    assert_eq!(r.bytes().unwrap().as_ref(), &whole[from..=to]);
}

#[test]
fn a_download_without_range_is_whole_and_advertises_byte_ranges() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (url, bytes) = setup(&server);
    let r = art.http.get(&url).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(header(&r, "accept-ranges"), "bytes");
    assert!(r.headers().get("content-range").is_none());
    assert_eq!(r.bytes().unwrap().as_ref(), bytes.as_slice());
}

#[test]
fn the_first_bytes_come_back_as_206_with_content_range() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (url, bytes) = setup(&server);
    expect_partial(ranged(&art, &url, "bytes=0-9"), &bytes, 0, 9);
    expect_partial(ranged(&art, &url, "bytes=0-0"), &bytes, 0, 0);
}

#[test]
fn a_middle_range_is_inclusive_at_both_ends() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (url, bytes) = setup(&server);
    expect_partial(ranged(&art, &url, "bytes=100-199"), &bytes, 100, 199);
}

#[test]
fn a_suffix_range_gives_the_last_bytes() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (url, bytes) = setup(&server);
    expect_partial(ranged(&art, &url, "bytes=-10"), &bytes, SIZE - 10, SIZE - 1);
    // A suffix longer than the file is the whole file.
    expect_partial(ranged(&art, &url, "bytes=-5000"), &bytes, 0, SIZE - 1);
}

#[test]
fn an_open_ended_range_runs_to_the_end() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (url, bytes) = setup(&server);
    expect_partial(ranged(&art, &url, "bytes=990-"), &bytes, 990, SIZE - 1);
    expect_partial(ranged(&art, &url, "bytes=0-"), &bytes, 0, SIZE - 1);
}

#[test]
fn a_range_ending_past_the_file_is_cut_at_its_end() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (url, bytes) = setup(&server);
    expect_partial(ranged(&art, &url, "bytes=995-5000"), &bytes, 995, SIZE - 1);
}

#[test]
fn a_range_starting_at_or_past_the_end_is_416_with_the_size() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (url, _) = setup(&server);
    for range in [
        "bytes=1000-",
        "bytes=1000-1001",
        "bytes=5000-6000",
        "bytes=-0",
    ] {
        let r = ranged(&art, &url, range);
        assert_eq!(r.status().as_u16(), 416, "{range}");
        assert_eq!(header(&r, "content-range"), "bytes */1000", "{range}");
    }
}

#[test]
fn an_earlier_version_can_be_fetched_by_range_too() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    let path = format!("{root}/data.bin");
    let old = random_bytes(SIZE, fresh_seed());
    art.upload(&path, &old);
    art.upload(&path, b"new content");
    let r = art
        .http
        .get(format!("{}/api/2.0/cairn/artifacts/version", server.url))
        .query(&[("path", path.as_str()), ("digest", &sha256_hex(&old))])
        .header("range", "bytes=10-19")
        .send()
        .unwrap();
    expect_partial(r, &old, 10, 19);
}
