import type { KnownErrorKind } from "../../lib/errors";

// What a refused install means for the user, by kind: the message says what, this says what now.
const HINTS: Partial<Record<KnownErrorKind, string>> = {
  signature_invalid:
    "Nothing was installed. The package's signature does not match its publisher's key, so it may not be what they published.",
  package_tampered:
    "Nothing was installed. The download does not match the checksum the publisher signed: it was altered or damaged on the way.",
  package_invalid: "Nothing was installed. The package is not a valid capability.",
  publisher_key_changed:
    "Nothing was installed. It is signed with another key than the one you trusted at the last install, and the publisher handed nothing over to it. To trust the new key, uninstall it and install it again.",
  listing_mismatch:
    "Nothing was installed. What the marketplace lists does not match the package the publisher signed (the message above names the difference), so the listing cannot be trusted.",
  id_taken:
    "Nothing was installed. Your library already has a capability with this id. Tick “Replace it” to remove that one first, or keep it and cancel.",
  revoked: "The marketplace revoked this version: it does not run. Open the listing to pick a newer one.",
  yanked: "The publisher withdrew this version. Open the listing to pick another one.",
  consent_required: "It asks for more than this screen shows. Close the dialog and open it again to see the latest.",
  market_unreachable: "The marketplace cannot be reached, and the package is not in the local cache. Try again when online.",
  market: "If the marketplace says you are not signed in, sign in under Settings → Marketplace.",
};

export function ConsentError({ kind }: { kind: KnownErrorKind }) {
  const hint = HINTS[kind];
  return hint ? <p className="small">{hint}</p> : null;
}
