// Node-RED settings for the Capsmith side-by-side benchmark (bench/nodered/run.sh).
// Runtime only: no editor, no admin API, no credentials, warnings-only logging.
// Environment:
//   NODERED_PORT      port to listen on (default 1880), always on 127.0.0.1
//   NODERED_USER_DIR  user directory (required; run.sh makes a temp dir and copies flows.json in)
const path = require("path");

const userDir = process.env.NODERED_USER_DIR;
if (!userDir) {
  throw new Error("NODERED_USER_DIR is not set (run bench/nodered/run.sh, or point it at a temp dir)");
}

module.exports = {
  uiHost: "127.0.0.1",
  uiPort: parseInt(process.env.NODERED_PORT || "1880", 10),

  userDir,
  flowFile: path.join(userDir, "flows.json"),
  flowFilePretty: true,
  // No credentials in this flow; `false` keeps Node-RED from generating and asking about a key.
  credentialSecret: false,

  // The editor and admin HTTP API are off; only the flow's HTTP endpoints are served.
  httpAdminRoot: false,
  disableEditor: true,
  httpNodeRoot: "/",
  httpNodeCors: false,
  httpStatic: false,

  logging: {
    console: { level: "warn", metrics: false, audit: false },
  },

  // Nothing phones home, nothing gets installed at run time.
  diagnostics: { enabled: false, ui: false },
  runtimeState: { enabled: false, ui: false },
  telemetry: { enabled: false },
  externalModules: {
    autoInstall: false,
    palette: { allowInstall: false, allowUpdate: false, allowUpload: false },
    modules: { allowInstall: false },
  },
  functionExternalModules: false,
  functionGlobalContext: {},

  // Context stays in memory (the default); nothing is persisted.
  contextStorage: { default: { module: "memory" } },
};
