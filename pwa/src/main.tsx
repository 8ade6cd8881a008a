import { render } from "preact";
import { App } from "./app";
import { lang } from "./i18n";
import { registerServiceWorker } from "./sw-register";
import "./styles.css";
import { db, FieldbookDB, getMeta, setMeta, useDatabase } from "./db/db";
import { applyPulled, replicaChecksum } from "./db/replica";
import { requestSync, syncStatus } from "./sync/client";

// For support, the end-to-end tests and bench/pwa_first_sync.py: start a sync, ask whether everything is sent
// and the last sync succeeded; `internals` reach the local database layer.
Object.assign(window, {
  __fieldbook: {
    sync: () => requestSync(),
    synced: async () =>
      (await db.outbox.count()) === 0 && (await syncStatus()).state === "idle" && (await syncStatus()).lastSuccessAt !== null,
    internals: { db: () => db, FieldbookDB, useDatabase, getMeta, setMeta, applyPulled, replicaChecksum },
  },
});

document.documentElement.lang = lang();
render(<App />, document.getElementById("app")!);
registerServiceWorker();
if (navigator.storage?.persist) {
  // Ask the browser not to evict the replica and outbox under storage pressure.
  void navigator.storage.persisted().then((yes) => (yes ? true : navigator.storage.persist()));
}
