//! The live preview (`bulletin preview --serve`) running for real on
//! 127.0.0.1, and Debian's Chromium driven through chromedriver (WebDriver,
//! via `fantoccini`) to look at it as a writer would.
//!
//! Each test gets its own folder, server, chromedriver and browser; all of
//! them are stopped when dropped, even when the test fails. The tests run
//! one at a time (two Chromiums at once on a small machine make the timing
//! checks meaningless), and every wait has a deadline.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value as Json, json};
use tempfile::TempDir;

use crate::util::{SAMPLE_BULLETIN, Test};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The longest a whole test may take, browser start included.
const TEST_LIMIT: Duration = Duration::from_secs(90);
/// The longest anything is waited for unless a test says otherwise.
pub const WAIT: Duration = Duration::from_secs(10);
/// How often a condition is looked at again.
const POLL: Duration = Duration::from_millis(25);

/// Only one browser test runs at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    // A failed test poisons the lock; the next one still runs.
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Fails, saying how to install it, when `path` (from Debian package
/// `package`) is missing: a browser test that quietly skips tests nothing.
fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).is_file(),
        "{path} is missing (Debian package {package}): the browser tests need Debian's Chromium and its \
         WebDriver. Install both with `sudo apt-get install chromium chromium-driver` (scripts/test.sh does \
         this), then run the tests again."
    );
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("cannot bind a port on 127.0.0.1");
    listener.local_addr().expect("a bound socket has an address").port()
}

/// Starts the preview server for `test` and a browser, runs `body` with
/// them, then stops everything (also when `body` panics).
pub fn run(test: Test, body: impl AsyncFnOnce(&Page<'_>)) {
    let server = Server::start(&test);
    in_browser(
        || server.output(),
        async |client: &Client| body(&Page { client: client.clone(), server: &server, test: &test }).await,
    );
}

/// Starts a browser alone (for pages on disk, `file://…`), runs `body`
/// with it, then stops it (also when `body` panics).
pub fn with_browser(body: impl AsyncFnOnce(&Client)) {
    in_browser(String::new, body);
}

/// Runs `body` with a browser, one test at a time, within [`TEST_LIMIT`];
/// past it, fails with `output` (the server's, when there is one).
fn in_browser(output: impl FnOnce() -> String, body: impl AsyncFnOnce(&Client)) {
    let _serial = serial();
    require(CHROMIUM, "chromium");
    require(CHROMEDRIVER, "chromium-driver");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot start an async runtime");
    runtime.block_on(async {
        let browser = Browser::start().await;
        let outcome = tokio::time::timeout(TEST_LIMIT, body(&browser.client)).await;
        if outcome.is_err() {
            panic!("the test took more than {TEST_LIMIT:?}\n{}", output());
        }
        browser.close().await;
    });
}

/// `bulletin preview <sample> --serve --port 0`, stopped when dropped.
pub struct Server {
    child: Mutex<Child>,
    /// The page's address, `http://127.0.0.1:<port>/`.
    pub url: String,
    /// Everything the server printed, for failure messages.
    printed: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the server in `test`'s folder with its settings (and no
    /// others: the environment is cleared), and waits for its address.
    pub(crate) fn start(test: &Test) -> Self {
        let mut child = test
            .std_command(&["preview", SAMPLE_BULLETIN, "--serve", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start bulletin preview --serve");
        let printed = Arc::new(Mutex::new(String::new()));
        let (first_line, first_line_rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let out = Arc::clone(&printed);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = first_line.send(line.clone());
                let mut out = out.lock().unwrap_or_else(PoisonError::into_inner);
                out.push_str(&line);
                out.push('\n');
            }
        });
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let err = Arc::clone(&printed);
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            err.lock().unwrap_or_else(PoisonError::into_inner).push_str(&format!("--- stderr\n{text}"));
        });
        let mut server = Self { child: Mutex::new(child), url: String::new(), printed };
        let line = first_line_rx
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("the server printed no address within {WAIT:?}\n{}", server.output()));
        let prefix = format!("Previewing {SAMPLE_BULLETIN} at ");
        let url = line.strip_prefix(&prefix).unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        assert!(
            url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
            "the server should listen on 127.0.0.1 and say so: {line:?}"
        );
        server.url = url.to_owned();
        server
    }

    /// Sends the server SIGINT, as Ctrl-C in its terminal does.
    pub fn interrupt(&self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child().id().to_string()])
            .status()
            .expect("cannot run kill");
        assert!(status.success(), "cannot interrupt the server");
    }

    /// Waits (at most `limit`) for the server to exit; its exit code, or
    /// `None` if it is still running.
    pub async fn wait_for_exit(&self, limit: Duration) -> Option<Option<i32>> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child().try_wait().expect("cannot wait for the server") {
                return Some(status.code());
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn child(&self) -> MutexGuard<'_, Child> {
        self.child.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What the server has printed so far.
    pub fn output(&self) -> String {
        format!("--- server output\n{}", self.printed.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The address of `path` (which starts with `/`) on the server.
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url.trim_end_matches('/'), path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(PoisonError::into_inner);
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// chromedriver and the Chromium it starts, in a process group of their
/// own so that both are stopped when dropped.
struct Browser {
    driver: Child,
    client: Client,
    _profile: TempDir,
}

impl Browser {
    async fn start() -> Self {
        let profile = tempfile::tempdir().expect("cannot make a browser profile folder");
        let port = free_port();
        let log = fs::File::create(profile.path().join("chromedriver.log")).expect("cannot make a log file");
        let mut driver = Command::new(CHROMEDRIVER);
        driver
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("cannot share the log file"))
            .stderr(log)
            .process_group(0);
        let driver = driver.spawn().unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        // Until `client` exists, a guard stops chromedriver if this fails.
        let mut guard = DriverGuard(Some(driver));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not answer on 127.0.0.1:{port} within 20 s");
            tokio::time::sleep(POLL).await;
        }
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--no-proxy-server",
                    format!("--user-data-dir={}", profile.path().join("chromium").display()),
                    "--window-size=1600,1200",
                ],
            },
            "timeouts": { "pageLoad": 15_000, "script": 10_000, "implicit": 0 },
        });
        let Json::Object(capabilities) = capabilities else { unreachable!("an object") };
        // Plain HTTP: chromedriver is on 127.0.0.1. (fantoccini builds no
        // connector itself without a TLS feature, hence hyper-util.)
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = tokio::time::timeout(
            Duration::from_secs(30),
            ClientBuilder::new(connector)
                .capabilities(capabilities)
                .connect(&format!("http://127.0.0.1:{port}")),
        )
        .await
        .unwrap_or_else(|_| panic!("Chromium did not start within 30 s\n{}", driver_log(profile.path())))
        .unwrap_or_else(|e| {
            panic!("cannot start Chromium through chromedriver: {e}\n{}", driver_log(profile.path()))
        });
        Self { driver: guard.0.take().expect("the guard holds chromedriver"), client, _profile: profile }
    }

    /// Ends the session (closing Chromium) politely; [`Drop`] makes sure.
    async fn close(&self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.client.clone().close()).await;
    }
}

fn driver_log(profile: &Path) -> String {
    let log = fs::read_to_string(profile.join("chromedriver.log")).unwrap_or_default();
    format!("--- chromedriver log\n{log}")
}

/// Stops chromedriver and everything it started: its process group.
fn stop_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

struct DriverGuard(Option<Child>);

impl Drop for DriverGuard {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            stop_group(child);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        stop_group(&mut self.driver);
    }
}

/// The browser looking at one server, with what a test asks of it.
pub struct Page<'a> {
    pub client: Client,
    pub server: &'a Server,
    pub test: &'a Test,
}

impl Page<'_> {
    /// Opens `path` (e.g. `/` or `/?to=…`) and waits until it is live:
    /// loaded, and subscribed to the server's change events.
    pub async fn open(&self, path: &str) {
        let url = self.server.at(path);
        self.client.goto(&url).await.unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        self.wait_until_live().await;
    }

    /// Waits until the page's event stream is connected, so that a save
    /// from now on reloads it.
    pub async fn wait_until_live(&self) {
        eventually("the page to connect to /events", WAIT, async || {
            let live = self.js("return document.getElementById('live')?.textContent ?? null", vec![]).await;
            match live.as_str() {
                Some(text) if text.starts_with('●') => Ok(()),
                _ => Err(format!("#live says {live}")),
            }
        })
        .await;
    }

    /// Runs `script` in the page and returns what it returns.
    pub async fn js(&self, script: &str, args: Vec<Json>) -> Json {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The visible text of frame `id`'s email, or `None` before it loads.
    pub async fn frame_text(&self, id: &str) -> Option<String> {
        let text = self
            .js(
                "const frame = document.getElementById(arguments[0]);
                 const doc = frame && frame.contentDocument;
                 return doc && doc.body ? doc.body.innerText : null;",
                vec![json!(id)],
            )
            .await;
        text.as_str().map(str::to_owned)
    }

    /// Waits (at most `limit`) until every frame in `frames` shows every
    /// one of `needles`.
    pub async fn wait_for_frames(&self, frames: &[&str], needles: &[&str], limit: Duration) {
        eventually(&format!("frames {frames:?} to show {needles:?}"), limit, async || {
            for id in frames {
                let text = self.frame_text(id).await.unwrap_or_default();
                if let Some(missing) = needles.iter().find(|n| !text.contains(*n)) {
                    return Err(format!("#{id} lacks {missing:?}; it shows: {:.300}", text));
                }
            }
            Ok(())
        })
        .await;
    }

    /// Waits until every frame has finished loading (its `load` handler has
    /// run and sized it to its email).
    pub async fn wait_for_frames_loaded(&self) {
        eventually("every frame to finish loading", WAIT, async || {
            let states = self
                .js(
                    "return [...document.querySelectorAll('iframe')].map(f =>
                       f.id + ':' + (f.contentDocument ? f.contentDocument.readyState : 'none') + ':' +
                       (f.contentDocument && f.contentDocument.body ? f.contentDocument.body.innerText.length : 0) +
                       ':' + f.style.height)",
                    vec![],
                )
                .await;
            let states: Vec<String> =
                states.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_owned)).collect();
            let loaded = |s: &String| {
                let parts: Vec<&str> = s.split(':').collect();
                parts.get(1) == Some(&"complete") && parts.get(2) != Some(&"0") && parts.get(3) != Some(&"")
            };
            if !states.is_empty() && states.iter().all(loaded) { Ok(()) } else { Err(format!("{states:?}")) }
        })
        .await;
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
    }

    /// The `textContent` of the element `css`, or `None` if there is none.
    pub async fn text_content(&self, css: &str) -> Option<String> {
        let text = self
            .js("return document.querySelector(arguments[0])?.textContent ?? null", vec![json!(css)])
            .await;
        text.as_str().map(str::to_owned)
    }

    /// The page's address now.
    pub async fn current_url(&self) -> String {
        self.client.current_url().await.expect("the browser knows where it is").to_string()
    }

    /// Writes `contents` to `path` in the test folder, as an editor saves.
    pub fn save(&self, path: &str, contents: &str) {
        let full = self.test.join(path);
        fs::write(&full, contents).unwrap_or_else(|e| panic!("cannot write {}: {e}", full.display()));
    }

    /// Saves `contents` to `path` as many editors do: into a new file
    /// beside it, then renamed over it.
    pub fn save_by_rename(&self, path: &str, contents: &str) {
        let full = self.test.join(path);
        let temporary = full.with_extension("saving~");
        fs::write(&temporary, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", temporary.display()));
        fs::rename(&temporary, &full).unwrap_or_else(|e| panic!("cannot rename to {}: {e}", full.display()));
    }
}

/// Polls `probe` until it succeeds; fails after `limit`, showing what
/// `probe` last saw.
pub async fn eventually<T>(
    what: &str,
    limit: Duration,
    mut probe: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => {
                panic!("waited {limit:?} for {what}; last saw: {last}")
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}

/// Where the screenshots go: `target/preview-screenshots/` in the crate.
pub fn screenshot_folder() -> PathBuf {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("preview-screenshots");
    fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("cannot make {}: {e}", folder.display()));
    folder
}

/// The width and height a PNG says it has; panics if `bytes` is no PNG.
pub fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 24 && bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG ({} bytes)", bytes.len());
    assert_eq!(&bytes[12..16], b"IHDR", "a PNG starts with its IHDR chunk");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("four bytes"));
    (be(16), be(20))
}
