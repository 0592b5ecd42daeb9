import assert from "node:assert/strict";
import { test } from "node:test";

import { ModError } from "../../../static/js/moderate/api.js";
import {
  CallSettingsPanel,
  callSettingsErrorText,
  inviteProblem,
} from "../../../static/js/moderate/call-settings.js";
import { element, fakeDom } from "../fake-dom.js";
import { installGlobals } from "../fakes.js";

/** A stand-in for ModApi: keeps the settings like the server, or refuses with `refusal`. */
function fakeApi(settings = { access: "signed_in", invited: [] }) {
  const api = {
    settings,
    requests: [],
    refusal: null,
    async get(name) {
      api.requests.push({ method: "GET", name });
      return structuredClone(api.settings);
    },
    async post(name, body) {
      api.requests.push({ method: "POST", name, body });
      if (api.refusal) throw api.refusal;
      const next = structuredClone(api.settings);
      if (body.access) next.access = body.access;
      if (body.invite && !next.invited.includes(body.invite)) next.invited = [...next.invited, body.invite].sort();
      if (body.uninvite) next.invited = next.invited.filter((name) => name !== body.uninvite);
      api.settings = next;
      return structuredClone(next);
    },
  };
  return api;
}

function setUp(t, settings) {
  installGlobals(t, { document: fakeDom() });
  const parts = {
    accessForm: element("form"),
    access: element("select"),
    save: element("button"),
    status: element("span"),
    list: element("ul"),
    empty: element("p"),
    inviteForm: element("form"),
    inviteName: element("input"),
    inviteButton: element("button"),
  };
  parts.access.value = "signed_in";
  parts.inviteName.value = "";
  const api = fakeApi(settings);
  let changes = 0;
  const panel = new CallSettingsPanel(parts, { api, onChanged: () => (changes += 1) });
  return { parts, api, panel, changes: () => changes };
}

const submit = (form) => form.dispatchEvent(new Event("submit", { cancelable: true }));
const names = (list) => list.children.map((item) => item.dataset.name);
async function settle() {
  for (let round = 0; round < 5; round++) await new Promise((resolve) => setTimeout(resolve, 0));
}

test("the panel shows the mode and the invited accounts as the server has them", async (t) => {
  const { parts, panel } = setUp(t, { access: "invited", invited: ["bob", "<img src=x>"] });
  await panel.load();
  assert.equal(parts.access.value, "invited");
  assert.deepEqual(names(parts.list), ["bob", "<img src=x>"]);
  assert.equal(parts.list.children[1].textContent, "<img src=x> Remove"); // text, never markup
  assert.equal(parts.empty.hidden, true);
});

test("saving the mode posts it and confirms", async (t) => {
  const { parts, api, changes } = setUp(t);
  parts.access.value = "members";
  submit(parts.accessForm);
  await settle();
  assert.deepEqual(api.requests.at(-1), { method: "POST", name: "call_settings", body: { access: "members" } });
  assert.equal(parts.status.textContent, "Saved: the call is open to the room's members (and moderators).");
  assert.equal(parts.status.dataset.kind, "ok");
  assert.equal(parts.save.disabled, false);
  assert.equal(changes(), 1);
});

test("a mode the page does not know is not sent", async (t) => {
  const { parts, api, panel } = setUp(t);
  parts.access.value = "everyone";
  await panel.saveAccess();
  assert.equal(api.requests.length, 0);
  assert.equal(parts.status.dataset.kind, "error");
});

test("inviting adds the name to the list and clears the field; removing takes it out", async (t) => {
  const { parts, api, changes } = setUp(t);
  parts.inviteName.value = "  carol ";
  submit(parts.inviteForm);
  await settle();
  assert.deepEqual(api.requests.at(-1).body, { invite: "carol" });
  assert.deepEqual(names(parts.list), ["carol"]);
  assert.equal(parts.inviteName.value, "");
  assert.equal(parts.status.textContent, "Invited carol to the call.");
  assert.equal(parts.empty.hidden, true);

  const remove = parts.list.children[0].children.find((child) => child.dataset.action === "uninvite");
  assert.equal(remove.getAttribute("aria-label"), "Remove carol's invitation to the call");
  remove.dispatchEvent(new Event("click"));
  await settle();
  assert.deepEqual(api.requests.at(-1).body, { uninvite: "carol" });
  assert.deepEqual(names(parts.list), []);
  assert.equal(parts.empty.hidden, false);
  assert.equal(parts.status.textContent, "carol is no longer invited to the call.");
  assert.equal(changes(), 2);
});

test("an unknown user is refused clearly and the name stays to be corrected", async (t) => {
  const { parts, api } = setUp(t);
  api.refusal = new ModError("unknown_user", "There is no user named 'nobdy'.", { status: 404 });
  parts.inviteName.value = "nobdy";
  submit(parts.inviteForm);
  await settle();
  assert.equal(parts.status.textContent, "There is no account named “nobdy”.");
  assert.equal(parts.status.dataset.kind, "error");
  assert.equal(parts.status.getAttribute("role"), "alert");
  assert.equal(parts.inviteName.value, "nobdy");
  assert.equal(parts.inviteName.getAttribute("aria-invalid"), "true");
  assert.equal(parts.inviteButton.disabled, false);
});

test("an empty or overlong name is caught before asking the server", async (t) => {
  const { parts, api, panel } = setUp(t);
  await panel.invite("   ");
  assert.equal(parts.status.textContent, "Write the user name of the account to invite.");
  await panel.invite("x".repeat(151));
  assert.equal(parts.status.textContent, "A user name has at most 150 characters.");
  assert.equal(api.requests.length, 0);
  assert.equal(inviteProblem("bob"), null);
});

test("each refusal reads by its code", () => {
  const tooMany = new ModError("too_many", "A call has at most 200 invitations.");
  assert.equal(callSettingsErrorText(tooMany, "x"), "A call has at most 200 invitations.");
  const forbidden = new ModError("forbidden", "Only the room's owner may change who may join the call.");
  assert.equal(callSettingsErrorText(forbidden), "Only the room's owner may change who may join the call.");
  assert.equal(
    callSettingsErrorText(new ModError("rate_limited", "", { retry_after: 3 })),
    "You are sending too fast; try again in 3 s.",
  );
});

test("settings that cannot be read are reported, not shown as empty", async (t) => {
  const { parts, api, panel } = setUp(t);
  api.get = async () => {
    throw new ModError("network", "Could not reach the server.");
  };
  await panel.load();
  assert.equal(parts.status.textContent, "Could not read the call settings: Could not reach the server.");
  assert.equal(parts.status.dataset.kind, "error");
});
