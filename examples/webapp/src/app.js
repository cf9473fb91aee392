// The browser side of a whole serverless app on one sofaasd, with the AWS SDK for
// JavaScript as it is used against AWS: the page signs a user up or in with a user pool
// (/auth/POOL/...), exchanges the ID token for temporary credentials of a role (STS's
// AssumeRoleWithWebIdentity at /sts/), and invokes functions with them (Lambda's Invoke,
// signed with SigV4 and the session token). The function is told who called: the page
// shows what it answered and whether it names the signed-in user. The page is served by
// the same sofaasd (`sofaas site deploy`), so every call goes to its own origin.
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";

// Errors after which the credentials are of no more use: sign in again.
const DEAD_CREDENTIALS = new Set(["ExpiredTokenException", "UnrecognizedClientException", "InvalidSignatureException"]);

const app = settings();
// The signed-in user and their temporary credentials, only in this page's memory.
let session = null;

function settings() {
  const defaults = document.querySelector('meta[name="sofaas-app"]').dataset;
  const query = new URLSearchParams(window.location.search);
  return {
    pool: query.get("pool") || defaults.pool,
    roleArn: query.get("role_arn") || defaults.roleArn,
    functionName: query.get("function") || defaults.function,
    region: query.get("region") || defaults.region,
    endpoint: window.location.origin,
  };
}

function element(tag, className, text) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (text !== undefined) made.textContent = text;
  return made;
}

function setState(state) {
  document.body.dataset.state = state;
}

function showProblem(text) {
  const problem = document.getElementById("problem");
  problem.textContent = text;
  problem.hidden = !text;
}

async function postJson(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // told by the caller, with the text
  }
  return { status: response.status, json, text };
}

function refusal(what, answer) {
  const reason = answer.json && answer.json.errorMessage ? answer.json.errorMessage : answer.text;
  const type = answer.json && answer.json.errorType ? `${answer.json.errorType}, ` : "";
  return new Error(`${what} refused (${type}HTTP ${answer.status}): ${reason}`);
}

// Signs the user up first when asked, then in: the pool's tokens.
async function signIn(username, password, signUp) {
  const base = `/auth/${encodeURIComponent(app.pool)}`;
  if (signUp) {
    const created = await postJson(`${base}/sign-up`, { username, password });
    if (created.status !== 201) throw refusal("Sign-up", created);
  }
  const signedIn = await postJson(`${base}/sign-in`, { username, password });
  if (signedIn.status !== 200 || !signedIn.json || !signedIn.json.id_token) throw refusal("Sign-in", signedIn);
  return signedIn.json;
}

// The ID token for temporary credentials of the role; STS says whose token it verified.
async function assumeRole(idToken, username) {
  const sts = new STSClient({ region: app.region, endpoint: `${app.endpoint}/sts/` });
  const answer = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: app.roleArn,
      RoleSessionName: username.replace(/[^A-Za-z0-9_+=,.@-]/g, "-").slice(0, 64).padEnd(2, "-"),
      WebIdentityToken: idToken,
    }),
  );
  return {
    sub: answer.SubjectFromWebIdentityToken,
    credentials: {
      accessKeyId: answer.Credentials.AccessKeyId,
      secretAccessKey: answer.Credentials.SecretAccessKey,
      sessionToken: answer.Credentials.SessionToken,
    },
    expiration: answer.Credentials.Expiration,
  };
}

function showSession() {
  const panel = document.getElementById("session");
  panel.hidden = !session;
  document.getElementById("sign-in").hidden = Boolean(session);
  document.getElementById("call").querySelector("fieldset").disabled = !session;
  if (!session) return;
  document.getElementById("session-user").textContent = session.username;
  document.getElementById("session-sub").textContent = session.sub;
  document.getElementById("session-role").textContent = app.roleArn;
  document.getElementById("session-key").textContent = session.credentials.accessKeyId;
  document.getElementById("session-expires").textContent = session.expiration.toLocaleString();
}

async function onSignIn(event) {
  event.preventDefault();
  const signUp = event.submitter && event.submitter.id === "sign-up";
  const username = document.getElementById("username").value;
  const password = document.getElementById("password").value;
  const form = document.getElementById("sign-in").querySelector("fieldset");
  form.disabled = true;
  showProblem("");
  setState("signing-in");
  try {
    const tokens = await signIn(username, password, signUp);
    const assumed = await assumeRole(tokens.id_token, username);
    session = { username, refreshToken: tokens.refresh_token, ...assumed };
    document.getElementById("password").value = "";
    showSession();
    setState("signed-in");
  } catch (error) {
    showProblem(String(error.message || error));
    setState("sign-in-failed");
  } finally {
    form.disabled = false;
  }
}

async function onSignOut() {
  const ending = session;
  session = null;
  showSession();
  setState("ready");
  // Ends the pool's session (its refresh token); the temporary credentials, forgotten here,
  // stay valid until they expire or an admin revokes the role's sessions, as on AWS.
  if (ending && ending.refreshToken) {
    await postJson(`/auth/${encodeURIComponent(app.pool)}/sign-out`, { refresh_token: ending.refreshToken });
  }
}

// What the function answered, and whether it names the signed-in user as its caller.
function describeAnswer(output, entry) {
  let parsed = null;
  try {
    parsed = JSON.parse(output);
  } catch {
    // not JSON: shown as it is
  }
  entry.append(element("pre", "output", parsed ? JSON.stringify(parsed, null, 2) : output));
  const sub = parsed && parsed.caller ? parsed.caller.user_sub : undefined;
  if (sub === undefined) return;
  entry.dataset.callerSub = sub;
  const same = sub === session.sub;
  entry.append(
    element(
      "p",
      same ? "verdict same" : "verdict different",
      same
        ? `The function saw you: its caller is user ${sub}, the sub this page signed in as.`
        : `The function's caller is user ${sub || "(none)"}, not ${session.sub}.`,
    ),
  );
}

async function onCall(event) {
  event.preventDefault();
  const functionName = document.getElementById("function").value.trim();
  const payload = document.getElementById("payload").value;
  const entry = element("li", "call");
  entry.dataset.function = functionName;
  const heading = element("p", "call-heading");
  heading.append(element("strong", "", functionName), ` at ${new Date().toLocaleTimeString()}: `);
  entry.append(heading);
  document.getElementById("calls").prepend(entry);
  const fields = document.getElementById("call").querySelector("fieldset");
  fields.disabled = true;
  try {
    const lambda = new LambdaClient({ region: app.region, endpoint: app.endpoint, credentials: session.credentials });
    const answer = await lambda.send(
      new InvokeCommand({ FunctionName: functionName, Payload: new TextEncoder().encode(payload) }),
    );
    const output = new TextDecoder().decode(answer.Payload);
    if (answer.FunctionError) {
      entry.dataset.outcome = "function-error";
      heading.append(element("span", "outcome failed", `the function failed (${answer.FunctionError})`));
    } else {
      entry.dataset.outcome = "ok";
      heading.append(element("span", "outcome ok", `answered (HTTP ${answer.StatusCode}, version ${answer.ExecutedVersion})`));
    }
    describeAnswer(output, entry);
  } catch (error) {
    const status = error.$metadata ? error.$metadata.httpStatusCode : undefined;
    entry.dataset.outcome = "refused";
    entry.dataset.error = error.name;
    entry.dataset.status = String(status);
    heading.append(element("span", "outcome failed", `refused: ${error.name} (HTTP ${status})`));
    entry.append(element("p", "reason", error.message));
    if (DEAD_CREDENTIALS.has(error.name)) {
      showProblem("Your temporary credentials no longer work (expired or revoked): sign in again.");
      session = null;
      showSession();
    }
  } finally {
    fields.disabled = !session;
    setState(session ? "signed-in" : "ready");
    document.body.dataset.calls = String(document.getElementById("calls").children.length);
  }
}

document.getElementById("function").value = app.functionName;
document.getElementById("pool-name").textContent = app.pool;
document.getElementById("sign-in").addEventListener("submit", onSignIn);
document.getElementById("sign-out").addEventListener("click", onSignOut);
document.getElementById("call").addEventListener("submit", onCall);
showSession();
setState("ready");
