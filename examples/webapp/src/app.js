// The browser side of a whole serverless app on one sofaasd, with the AWS SDK for
// JavaScript as it is used against AWS: the page signs a user up and in with a user pool
// (/auth/POOL/...), exchanges the ID token for temporary credentials of a role (STS's
// AssumeRoleWithWebIdentity at /sts/), and invokes a function with them (Lambda's Invoke,
// signed with SigV4 and the session token). The page is served by the same sofaasd
// (`sofaas site deploy`), so every call goes to its own origin.
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";

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

function step(text) {
  const item = document.createElement("li");
  item.textContent = text;
  document.getElementById("steps").append(item);
  return item;
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
    // the error below says what came back
  }
  return { status: response.status, json, text };
}

async function signUpAndIn(app, username, password) {
  const base = `/auth/${encodeURIComponent(app.pool)}`;
  const signUp = await postJson(`${base}/sign-up`, { username, password });
  if (signUp.status === 201) step(`signed up as ${username} (sub ${signUp.json.sub})`);
  else if (signUp.status === 409) step(`${username} already exists: signing in`);
  else throw new Error(`sign-up: ${signUp.status} ${signUp.text}`);
  const signIn = await postJson(`${base}/sign-in`, { username, password });
  if (signIn.status !== 200 || !signIn.json || !signIn.json.id_token) {
    throw new Error(`sign-in: ${signIn.status} ${signIn.text}`);
  }
  step("signed in: got an ID token");
  return signIn.json.id_token;
}

async function assumeRole(app, idToken, username) {
  const sts = new STSClient({ region: app.region, endpoint: `${app.endpoint}/sts/` });
  const answer = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: app.roleArn,
      RoleSessionName: username.replace(/[^A-Za-z0-9_+=,.@-]/g, "-").slice(0, 64).padEnd(2, "-"),
      WebIdentityToken: idToken,
    }),
  );
  const credentials = answer.Credentials;
  step(`assumed ${app.roleArn}: temporary key ${credentials.AccessKeyId}, until ${credentials.Expiration.toISOString()}`);
  return {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    sessionToken: credentials.SessionToken,
  };
}

async function invoke(app, credentials, username) {
  const lambda = new LambdaClient({ region: app.region, endpoint: app.endpoint, credentials });
  const answer = await lambda.send(
    new InvokeCommand({
      FunctionName: app.functionName,
      Payload: new TextEncoder().encode(JSON.stringify({ from: "webapp", user: username })),
    }),
  );
  const text = new TextDecoder().decode(answer.Payload);
  if (answer.FunctionError) throw new Error(`${app.functionName} failed (${answer.FunctionError}): ${text}`);
  step(`invoked ${app.functionName} (version ${answer.ExecutedVersion})`);
  return text;
}

async function run(event) {
  event.preventDefault();
  const app = settings();
  const button = document.getElementById("go");
  const answer = document.getElementById("answer");
  const username = document.getElementById("username").value;
  const password = document.getElementById("password").value;
  document.getElementById("steps").replaceChildren();
  answer.textContent = "...";
  button.disabled = true;
  try {
    const idToken = await signUpAndIn(app, username, password);
    const credentials = await assumeRole(app, idToken, username);
    const output = await invoke(app, credentials, username);
    try {
      answer.textContent = JSON.stringify(JSON.parse(output), null, 2);
    } catch {
      answer.textContent = output;
    }
    document.body.dataset.state = "done";
  } catch (error) {
    step(String(error.message || error)).className = "failed";
    answer.textContent = "-";
    document.body.dataset.state = "failed";
  } finally {
    button.disabled = false;
  }
}

document.getElementById("sign-in").addEventListener("submit", run);
document.body.dataset.state = "ready";
