//! The worker binary over its pipe, as a host sees it: the frames it sends, what it does with an
//! ungranted host API, and how it treats a hostile host frame. No runtime involved (the runtime's
//! red-team suite is `capsmith-core`'s `sandbox` test). Being an integration test of this
//! crate, it also makes `cargo test --workspace` build the worker binary beside the other
//! programs, where the app, the CLI and the marketplace server look for it.

use std::io::{BufReader, BufWriter, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use capsmith_sandbox_protocol::{
    read_frame, write_frame, FromWorker, Invocation, Outcome, ToWorker, MAX_FRAME,
};
use serde_json::{json, Value};

struct Worker {
    child: Child,
    to: BufWriter<ChildStdin>,
    from: BufReader<ChildStdout>,
}

impl Worker {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_capsmith-sandbox"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the worker");
        let to = BufWriter::new(child.stdin.take().unwrap());
        let from = BufReader::new(child.stdout.take().unwrap());
        let mut w = Worker { child, to, from };
        match w.recv() {
            Some(FromWorker::Ready { .. }) => {}
            other => panic!("expected Ready first, got {other:?}"),
        }
        w
    }

    fn send(&mut self, msg: &ToWorker) {
        write_frame(&mut self.to, msg).expect("write a frame");
    }

    fn recv(&mut self) -> Option<FromWorker> {
        read_frame(&mut self.from).expect("read a frame")
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn invocation(actions: &str, action: &str, input: Value, granted: &[&str]) -> Invocation {
    Invocation {
        source: format!("export default {{ actions: {{ {actions} }} }};"),
        action: action.into(),
        input,
        config: json!({}),
        granted: granted.iter().map(|g| g.to_string()).collect(),
        memory_bytes: 32 << 20,
        // Generous: a busy debug-build machine must not turn a result into a timeout.
        deadline_ms: 30_000,
        max_output_bytes: 1 << 20,
    }
}

fn done(msg: Option<FromWorker>) -> Outcome {
    match msg {
        Some(FromWorker::Done(o)) => o,
        other => panic!("expected Done, got {other:?}"),
    }
}

#[test]
fn runs_an_action_and_serves_the_next_one() {
    let mut w = Worker::start();
    w.send(&ToWorker::Invoke(invocation(
        "add({ a, b }) { console.log('adding'); return { sum: a + b }; }",
        "add",
        json!({"a": 2, "b": 40}),
        &[],
    )));
    let o = done(w.recv());
    assert!(o.ok, "{o:?}");
    assert_eq!(o.output, Some(json!({"sum": 42})));
    assert_eq!(o.console.len(), 1);
    assert_eq!(o.console[0].text, "adding");

    // The same worker answers a second invocation (and an unknown action by name).
    w.send(&ToWorker::Invoke(invocation(
        "add() { return 1; }",
        "subtract",
        json!({}),
        &[],
    )));
    let o = done(w.recv());
    assert!(!o.ok);
    assert_eq!(o.kind.as_deref(), Some("unknown_action"), "{o:?}");
}

#[test]
fn an_ungranted_fetch_never_reaches_the_host() {
    let mut w = Worker::start();
    w.send(&ToWorker::Invoke(invocation(
        "async get() { const r = await fetch('http://127.0.0.1:9/'); return r.status; }",
        "get",
        json!({}),
        &[],
    )));
    // The first frame back must be the outcome: a Fetch frame would mean the call got out.
    let o = done(w.recv());
    assert!(!o.ok, "an ungranted fetch ran: {o:?}");
}

#[test]
fn a_granted_fetch_is_asked_of_the_host_and_answered_by_it() {
    let mut w = Worker::start();
    w.send(&ToWorker::Invoke(invocation(
        "async get({ url }) { const r = await fetch(url); return { status: r.status, body: await r.text() }; }",
        "get",
        json!({"url": "https://api.example.com/x"}),
        &["fetch"],
    )));
    let call = match w.recv() {
        Some(FromWorker::Fetch {
            call, url, method, ..
        }) => {
            assert_eq!(url, "https://api.example.com/x");
            assert_eq!(method, "GET");
            call
        }
        other => panic!("expected a Fetch frame, got {other:?}"),
    };
    w.send(&ToWorker::FetchResult {
        call,
        status: 201,
        headers: vec![("content-type".into(), "text/plain".into())],
        body: "from the host".into(),
    });
    let o = done(w.recv());
    assert!(o.ok, "{o:?}");
    assert_eq!(
        o.output,
        Some(json!({"status": 201, "body": "from the host"}))
    );
}

#[test]
fn a_frame_over_the_cap_ends_the_worker_without_reading_it() {
    let mut w = Worker::start();
    // Only the length header of a frame one byte over the cap: a worker that trusted it would
    // wait for (and allocate) 64 MiB; this one must give up at once and exit non-zero.
    w.to.write_all(&((MAX_FRAME as u32) + 1).to_be_bytes())
        .unwrap();
    w.to.flush().unwrap();
    assert!(
        w.recv().is_none(),
        "the worker answered a frame over the cap"
    );
    let status = w.child.wait().unwrap();
    assert!(!status.success(), "{status:?}");
}
