#!/usr/bin/python3
"""Loads the example single-page app (examples/webapp/dist, deployed as a site) in headless
Chromium: the page renders its sign-in form, its bundled script (the AWS SDK for
JavaScript and the app) runs to its ready state under the site's Content-Security-Policy,
and the browser logs no error meanwhile.

usage: page_check.py URL [SCREENSHOT]
Prints "all checks passed" and exits 0, or exits 1 naming the check that failed."""

import sys
from pathlib import Path

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from headless_chromium import fail, start_browser  # noqa: E402

WAIT_S = 10


def main():
    if len(sys.argv) not in (2, 3):
        fail(__doc__)
    url = sys.argv[1]
    driver = start_browser(1000, 900)
    try:
        driver.get(url)
        try:
            WebDriverWait(driver, WAIT_S).until(
                lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "ready")
        except TimeoutException:
            fail("the app's script did not reach its ready state")
        if driver.title != "sofaas web app":
            fail("the page's title is " + repr(driver.title))
        for field in ("username", "password", "go"):
            if not driver.find_element(By.ID, field).is_displayed():
                fail("no visible #" + field)
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        if errors:
            fail("the browser logged errors: " + repr(errors))
        if len(sys.argv) == 3:
            driver.save_screenshot(sys.argv[2])
    finally:
        driver.quit()
    print("all checks passed", flush=True)


if __name__ == "__main__":
    main()
