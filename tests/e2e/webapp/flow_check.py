#!/usr/bin/python3
"""The example single-page app (examples/webapp/dist, deployed as a site) used in headless
Chromium as a person would, against a sofaasd where the pool POOL exists, the role "web"
trusts it and grants invoking "whoami" only, and "whoami" and "hello" are deployed:

1. the page loads and its bundled script (the AWS SDK for JavaScript and the app) reaches
   its ready state under the site's Content-Security-Policy;
2. a new user signs up and in: the page shows the user's sub, the one sofaasd holds
   (`sofaas users list`);
3. calling "whoami" with the temporary credentials shows its answer, whose caller is that
   exact sub, with the role "web";
4. calling "hello", which the role does not grant, is refused: AccessDeniedException, 403;
5. once an admin revokes the role's sessions (`sofaas roles revoke-sessions web`), calling
   "whoami" is refused (UnrecognizedClientException, 403) and the page asks to sign in again;
6. the browser logged no error but those refused calls' 403s.

usage: flow_check.py URL SOFAAS_CLI POOL [SCREENSHOT]
The CLI finds sofaasd and the admin token in SOFAAS_ENDPOINT and SOFAAS_TOKEN. Prints
"sub: SUB" (the user's), then "all checks passed", and exits 0; or exits 1 naming the check
that failed. SCREENSHOT: where to save a PNG of the page after the flow."""

import json
import subprocess
import sys
from pathlib import Path

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from headless_chromium import fail, start_browser  # noqa: E402

WAIT_S = 20
USERNAME = "ada"
PASSWORD = "correct horse battery staple"


def wait_for(driver, what, condition):
    try:
        WebDriverWait(driver, WAIT_S).until(lambda d: condition())
    except TimeoutException:
        problem = driver.find_element(By.ID, "problem").text
        fail(what + (" (the page says: " + problem + ")" if problem else ""))


def state(driver):
    return driver.find_element(By.TAG_NAME, "body").get_attribute("data-state")


def cli(program, *args):
    done = subprocess.run([program, *args], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        fail("sofaas " + " ".join(args) + ": " + done.stderr)
    return done.stdout


def call(driver, function_name, count):
    field = driver.find_element(By.ID, "function")
    field.clear()
    field.send_keys(function_name)
    driver.find_element(By.ID, "invoke").click()
    wait_for(driver, "call " + str(count) + " (" + function_name + ") was not shown",
             lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-calls") == str(count))
    # Newest first.
    return driver.find_elements(By.CSS_SELECTOR, "#calls > li")[0]


def expect_refused(entry, error, status):
    got = (entry.get_attribute("data-outcome"), entry.get_attribute("data-error"), entry.get_attribute("data-status"))
    if got != ("refused", error, str(status)):
        fail("expected a refusal " + error + " " + str(status) + ", the page shows " + repr(got) + ": " + entry.text)
    if error not in entry.text or str(status) not in entry.text:
        fail("the refusal is not told to the user: " + entry.text)


def main():
    if len(sys.argv) not in (4, 5):
        fail(__doc__)
    url, program, pool = sys.argv[1:4]
    driver = start_browser(1000, 1400)
    try:
        driver.get(url)
        wait_for(driver, "the app's script did not reach its ready state", lambda: state(driver) == "ready")
        if driver.title != "sofaas web app":
            fail("the page's title is " + repr(driver.title))
        if driver.find_element(By.ID, "session").is_displayed():
            fail("a session is shown before anyone signed in")
        if driver.find_element(By.ID, "invoke").is_enabled():
            fail("calling is possible before signing in")

        driver.find_element(By.ID, "username").send_keys(USERNAME)
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "sign-up").click()
        wait_for(driver, "signing up and in did not finish", lambda: state(driver) in ("signed-in", "sign-in-failed"))
        if state(driver) != "signed-in":
            fail("signing up and in failed: " + driver.find_element(By.ID, "problem").text)
        users = json.loads(cli(program, "users", "list", "--pool", pool, "--json"))["users"]
        sub = next((user["sub"] for user in users if user["username"] == USERNAME), None)
        if not sub:
            fail("sofaasd holds no user " + USERNAME + ": " + repr(users))
        if driver.find_element(By.ID, "session-sub").text != sub:
            fail("the page shows the sub " + repr(driver.find_element(By.ID, "session-sub").text) + ", not " + sub)
        if not driver.find_element(By.ID, "session-key").text.startswith("ASIA"):
            fail("no temporary key shown")

        answered = call(driver, "whoami", 1)
        if answered.get_attribute("data-outcome") != "ok":
            fail("whoami was not answered: " + answered.text)
        if answered.get_attribute("data-caller-sub") != sub:
            fail("whoami's caller is " + repr(answered.get_attribute("data-caller-sub")) + ", not " + sub)
        output = json.loads(answered.find_element(By.CSS_SELECTOR, "pre.output").text)
        if output["caller"]["user_sub"] != sub or output["caller"]["role"] != "web":
            fail("the answer shown names another caller: " + json.dumps(output))
        verdict = answered.find_element(By.CSS_SELECTOR, ".verdict")
        if "same" not in verdict.get_attribute("class").split() or sub not in verdict.text:
            fail("the page does not say the function saw the signed-in user: " + verdict.text)

        expect_refused(call(driver, "hello", 2), "AccessDeniedException", 403)
        if state(driver) != "signed-in":
            fail("a refused call ended the session")

        cli(program, "roles", "revoke-sessions", "web")
        expect_refused(call(driver, "whoami", 3), "UnrecognizedClientException", 403)
        wait_for(driver, "revoked credentials did not send the user back to signing in",
                 lambda: driver.find_element(By.ID, "sign-in").is_displayed()
                 and not driver.find_element(By.ID, "session").is_displayed())
        if "sign in again" not in driver.find_element(By.ID, "problem").text:
            fail("the page does not ask to sign in again: " + driver.find_element(By.ID, "problem").text)

        # The two refused calls are the only errors: Chromium logs each 403 it received.
        errors = [entry for entry in driver.get_log("browser")
                  if entry["level"] == "SEVERE" and "status of 403" not in entry["message"]]
        if errors:
            fail("the browser logged errors: " + repr(errors))
        if len(sys.argv) == 5:
            driver.save_screenshot(sys.argv[4])
    finally:
        driver.quit()
    print("sub: " + sub, flush=True)
    print("all checks passed", flush=True)


if __name__ == "__main__":
    main()
