//! Uploads that break off (the client goes away, the server is killed) leave nothing
//! visible and no temp object.

use super::*;
use std::io::Write;
use std::net::TcpStream;

const DECLARED: usize = 10 * 1024 * 1024;
const SENT: usize = 3 * 1024 * 1024;

/// Opens a PUT of `path` declaring 10 MB and sends the first 3 MB of it.
fn start_upload(server: &TestServer, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let head = format!(
        "PUT {PROXY}/{} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/octet-stream\r\nContent-Length: {DECLARED}\r\n\r\n",
        encode(path),
        server.addr()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&random_bytes(SENT, fresh_seed())).unwrap();
    stream.flush().unwrap();
    stream
}

/// Waits until the server has begun writing the upload to a temp object.
#[track_caller]
fn wait_for_temp_object(server: &TestServer) {
    assert!(
        eventually(Duration::from_secs(10), || !files_under(&tmp_dir(server))
            .is_empty()),
        "the upload never reached a temp object"
    );
}

#[test]
fn a_client_that_disconnects_half_way_leaves_no_file_and_no_temp_object() {
    let server = TestServer::start();
    let art = Artifacts::of(&server);
    let (_, root) = new_run(&server);
    let path = format!("{root}/big.bin");
    let stream = start_upload(&server, &path);
    wait_for_temp_object(&server);
    stream.shutdown(std::net::Shutdown::Both).unwrap();
    drop(stream);

    assert!(
        eventually(Duration::from_secs(5), || files_under(&tmp_dir(&server))
            .is_empty()),
        "temp objects left: {:?}",
        files_under(&tmp_dir(&server))
    );
    expect_error(art.get(&path), 404, "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(art.list(Some(&root)), serde_json::json!({}));
    assert!(files_under(&blobs_dir(&server)).is_empty());

    // The server is none the worse: the same upload, whole, goes through.
    art.upload(&path, b"whole this time");
    assert_eq!(art.download(&path), b"whole this time");
}

#[test]
fn a_server_killed_mid_upload_restarts_without_the_file_or_its_temp_object() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(dir.path());
    let (_, root) = new_run(&server);
    Artifacts::of(&server).upload(&format!("{root}/before.txt"), b"acknowledged");
    let path = format!("{root}/big.bin");
    let stream = start_upload(&server, &path);
    wait_for_temp_object(&server);
    server.kill();
    drop(stream);
    assert!(
        !files_under(&tmp_dir(&server)).is_empty(),
        "the kill left the half-written upload on disk"
    );

    let server = TestServer::start_in(dir.path());
    let art = Artifacts::of(&server);
    assert!(
        files_under(&tmp_dir(&server)).is_empty(),
        "start-up clears interrupted uploads: {:?}",
        files_under(&tmp_dir(&server))
    );
    expect_error(art.get(&path), 404, "RESOURCE_DOES_NOT_EXIST");
    assert_eq!(art.download(&format!("{root}/before.txt")), b"acknowledged");
    assert_eq!(files_under(&blobs_dir(&server)).len(), 1);
}
