#!/usr/bin/python3
"""Loads the example single-page app (examples/webapp/dist, deployed as a site) in headless
Chromium: the page renders its sign-in form, its bundled script (the AWS SDK for
JavaScript and the app) runs to its ready state under the site's Content-Security-Policy,
and the browser logs no error meanwhile.

usage: page_check.py URL [SCREENSHOT]
Prints "all checks passed" and exits 0, or exits 1 naming the check that failed."""

import sys

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
WAIT_S = 10


def fail(message):
    print("FAILED: " + message, flush=True)
    sys.exit(1)


def start_browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # Tests run as root, where Chromium's sandbox cannot start.
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1000,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def main():
    if len(sys.argv) not in (2, 3):
        fail(__doc__)
    url = sys.argv[1]
    driver = start_browser()
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
