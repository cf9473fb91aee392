#!/usr/bin/python3
"""Drives the sofaas dashboard in headless Chromium, as a user would: a wrong key is
refused, the admin token signs in, the deployed functions are listed, a function's
invocation chart has the points of the traffic sent, a failed invocation's reason is
highlighted in its logs, and the browser logs no error meanwhile.

usage: browser_check.py ENDPOINT TOKEN CHARTED INVOCATIONS FAILED REASON [SCREENSHOT]
  CHARTED      a function that was invoked INVOCATIONS times (the chart must add up to it)
  FAILED       a function whose last invocation failed with REASON (a part of its ERROR line)
  SCREENSHOT   where to save a PNG of the dashboard showing CHARTED (optional)
Prints "all checks passed" and exits 0, or exits 1 naming the check that failed."""

import re
import sys
from pathlib import Path

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from headless_chromium import fail, start_browser  # noqa: E402

WAIT_S = 10


def console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def sign_in(driver, token):
    field = WebDriverWait(driver, WAIT_S).until(ec.visibility_of_element_located((By.ID, "token")))
    field.clear()
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#sign-in-form button[type=submit]").click()


def open_function(driver, name):
    wait = WebDriverWait(driver, WAIT_S)
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, f'#function-list button[data-function="{name}"]'))).click()
    wait.until(lambda d: d.find_element(By.ID, "detail-name").text == name and
               d.find_element(By.ID, "function-detail").get_attribute("data-state") == "loaded")


def main():
    if len(sys.argv) not in (7, 8):
        fail(__doc__)
    endpoint, token, charted, invocations, failed, reason = sys.argv[1:7]
    screenshot = sys.argv[7] if len(sys.argv) == 8 else None
    driver = start_browser(1400, 1300)
    try:
        driver.get(endpoint + "/ui/")
        wait = WebDriverWait(driver, WAIT_S)

        # Signed in with the admin token: every deployed function is listed.
        sign_in(driver, token)
        try:
            wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f'#function-list tr[data-function="{charted}"]')))
        except TimeoutException:
            fail("signed in with the admin token, the function list never showed " + charted +
                 "; sign-in message: " + driver.find_element(By.ID, "sign-in-error").text)
        listed = {row.get_attribute("data-function")
                  for row in driver.find_elements(By.CSS_SELECTOR, "#function-list tbody tr[data-function]")}
        if not {charted, failed} <= listed:
            fail(f"functions listed: {sorted(listed)}, expected {charted} and {failed} among them")
        if token in driver.current_url or driver.execute_script("return document.cookie") != "":
            fail("the token is in the URL or a cookie: " + driver.current_url)
        if driver.execute_script("return sessionStorage.getItem('sofaas.token')") != token:
            fail("the token is not kept in sessionStorage")

        # The invocation chart has a point per bucket, adding up to the calls made.
        open_function(driver, charted)
        chart = driver.find_element(By.ID, "chart-invocations")
        points = int(chart.get_attribute("data-points") or 0)
        total = int(float(chart.get_attribute("data-total") or 0))
        if points < 1 or total != int(invocations):
            fail(f"invocations chart of {charted}: {points} points adding up to {total}, expected {invocations}")
        if not chart.find_elements(By.TAG_NAME, "canvas"):
            fail("the invocations chart drew no canvas")
        duration_points = int(driver.find_element(By.ID, "chart-duration").get_attribute("data-points") or 0)
        if duration_points != points:
            fail(f"the duration chart has {duration_points} points, the invocations chart {points}")
        billed_row = f'#billing-functions tr[data-function="{charted}"] td'
        try:
            wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, billed_row)))
        except TimeoutException:
            fail(f"the bill per function has no row for {charted}")
        billed = driver.find_elements(By.CSS_SELECTOR, billed_row)
        if len(billed) < 2 or int(billed[1].text) != int(invocations):
            fail(f"billing per function shows {[cell.text for cell in billed]}, expected {invocations} invocations")
        # Money as the daemon sums it: one exact decimal, never a string the page glued together.
        total = driver.find_elements(By.CSS_SELECTOR, '#billing-functions tr[data-function="TOTAL"] td')
        if not total or not re.fullmatch(r"(0|[1-9][0-9]*)(\.[0-9]*[1-9])?", total[-1].text) or total[-1].text == "0":
            fail(f"the week's total cost shows {[cell.text for cell in total]}, not an exact decimal above 0")
        if screenshot:
            driver.save_screenshot(screenshot)

        # The failed invocation: counted in the errors chart, its reason highlighted in the logs.
        open_function(driver, failed)
        failures = float(driver.find_element(By.ID, "chart-errors").get_attribute("data-total") or 0)
        if failures < 1:
            fail(f"the errors chart of {failed} shows no error")
        reasons = [line.text for line in driver.find_elements(By.CSS_SELECTOR, "#logs .log-line.failure.error-line")]
        if not any(reason in text for text in reasons):
            all_lines = [line.text for line in driver.find_elements(By.CSS_SELECTOR, "#logs .log-line")]
            fail(f"no highlighted log line of {failed} holds '{reason}'; highlighted: {reasons}; all: {all_lines}")

        errors = console_errors(driver)
        if errors:
            fail("the browser console has errors: " + "; ".join(e["message"] for e in errors))

        # Signed out, a wrong key is refused with a visible message and shows nothing.
        driver.find_element(By.ID, "sign-out").click()
        sign_in(driver, "SOFAWRONGKEY00000000:not-the-secret")
        try:
            message = wait.until(ec.visibility_of_element_located((By.ID, "sign-in-error"))).text
        except TimeoutException:
            fail("a wrong key showed no refusal")
        if "Refused" not in message:
            fail("a wrong key's message does not say it was refused: " + message)
        if driver.find_element(By.ID, "dashboard-view").is_displayed():
            fail("a wrong key shows the dashboard")
        if driver.execute_script("return sessionStorage.getItem('sofaas.token')") is not None:
            fail("a wrong key was kept in sessionStorage")
    finally:
        driver.quit()
    print("all checks passed", flush=True)


if __name__ == "__main__":
    main()
