"""Each role in a real browser: what a nurse, the health office, a counsellor, the centre and the administrator
see and do. Run by `.ci/run` after `swift test`; see conftest.py for the server and the browser."""
import pathlib
import re

from playwright.sync_api import expect

from conftest import ROOT, SHOTS, login, shot

FIXTURE = ROOT / "Fixtures" / "vision" / "bad-values.csv"
UNKNOWN = ROOT / "Fixtures" / "vision" / "unknown-layout.csv"
STUDENT_ID = re.compile(r"G99\d{10,}")


def test_login_is_chinese_first_with_a_switch_and_refuses_a_wrong_password(server, page):
    page.goto(server + "/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "登录" in page.content()
    shot(page, "01-login")
    page.fill("#login", "health-office")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    expect(page.locator("[role=alert]")).to_be_visible()
    page.click("a.lang")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Sign in" in page.content() or "Log in" in page.content()
    shot(page, "01-login-en")
    # The page's own font stack names a CJK font for every platform.
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in family and "Microsoft YaHei" in family and "PingFang SC" in family
    # The refused password is the only resource that failed (401); nothing the page needs is missing.
    assert [e for e in page.console_errors if "401" not in e] == []


def test_nurse_uploads_reads_the_summary_and_the_rejects(server, page):
    login(page, server, "nurse-SH-P01")
    page.goto(server + "/upload")
    page.select_option("#kind", "vision")
    page.set_input_files("#file", str(FIXTURE))
    shot(page, "02-nurse-upload")
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(re.compile(r"/upload/[0-9a-f-]+$"), timeout=60_000)
    summary = page.locator("#summary").inner_text()
    assert "退回" in summary and "新增" in summary
    rows = page.locator("#rejects tbody tr")
    assert rows.count() >= 5
    first = rows.nth(0).locator("td")
    assert first.nth(0).inner_text().strip().isdigit()  # the line in the file
    assert first.nth(1).inner_text().strip() != ""  # the column, as the file writes it
    shot(page, "03-nurse-result")
    with page.expect_download() as download:
        page.click("a[href$='rejects.csv']")
    body = pathlib.Path(download.value.path()).read_bytes()
    assert body.startswith(b"\xef\xbb\xbf"), "the rejects CSV opens in Excel: UTF-8 with a BOM"
    assert "行".encode() in body or b"line" in body
    page.goto(server + "/batches")
    assert FIXTURE.name in page.content()
    shot(page, "04-nurse-batches")
    assert page.console_errors == []
    # She reads no case: the queue is refused.
    assert page.goto(server + "/queue").status == 403


def test_nurse_maps_the_columns_of_an_unknown_layout(server, page):
    """A district platform's export with columns SchoolHealth does not know (OD裸眼, OS裸眼): the mapping step shows
    the head as read and a field per unread column; once chosen, the layout is the school's and the file imports."""
    login(page, server, "nurse-SH-P01")
    page.goto(server + "/upload")
    page.select_option("#kind", "vision")
    page.set_input_files("#file", str(UNKNOWN))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url(re.compile(r"/upload/[0-9a-f-]+$"), timeout=60_000)
    expect(page.locator("#mapping")).to_be_visible()
    mapping = page.locator("#mapping").inner_text()
    assert "标题行：1" in mapping and "表头行：2" in mapping
    assert "右眼裸眼视力" in mapping  # a required field still missing, in the nurse's words
    assert page.locator("#rejects").count() == 0
    page.select_option("select[name=col-8]", "ucva_right")
    page.select_option("select[name=col-9]", "ucva_left")
    page.select_option("select[name=col-10]", "sphere_right")
    page.select_option("select[name=col-11]", "sphere_left")
    shot(page, "03b-nurse-mapping")
    page.click("#mapping button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("#summary")).to_be_visible()
    assert page.locator("#mapping").count() == 0
    summary = page.locator("#summary").inner_text()
    assert "school-SH-P01-vision-1" in summary
    assert "已导入" in page.content()
    rejects = page.locator("#rejects").inner_text()
    assert "OS裸眼" in rejects and "不是视力值" in rejects  # the reason in Chinese, the column as the file writes it
    shot(page, "03c-nurse-mapped")
    assert page.console_errors == []


def test_office_dashboard_with_charts_and_downloads_and_no_student(server, page):
    login(page, server, "health-office")
    page.goto(server + "/dashboard")
    assert page.locator("#targets tr").count() >= 1
    assert page.locator(".charts svg").count() >= 2
    expect(page.locator("#case-counts")).to_be_visible()
    content = page.content()
    assert not STUDENT_ID.search(content), "the health office never sees a student identity"
    shot(page, "05-office-dashboard")
    page.select_option("#by", "sex")
    page.click(".filters button[type=submit]")
    assert "by=sex" in page.url
    assert "男" in page.content()
    with page.expect_download() as download:
        page.click("a[href^='/reports/trends.csv']")
    assert pathlib.Path(download.value.path()).stat().st_size > 1000
    page.goto(server + "/reports/trends.html")
    assert page.locator("svg").count() >= 2
    shot(page, "06-office-report")
    assert page.console_errors == []
    assert page.goto(server + "/cases/1").status == 403
    # The same dashboard in English: every word from the English catalogue (shot() fails on a bare message key).
    page.goto(server + "/dashboard")
    page.click("a.lang")
    page.goto(server + "/dashboard")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".charts svg").count() >= 2
    assert not STUDENT_ID.search(page.content())
    shot(page, "05-office-dashboard-en")


def test_counsellor_opens_a_case_and_advances_it_with_consent_then_the_centre_sees_it(server, page, browser):
    login(page, server, "counsellor-SH-J01")
    page.goto(server + "/queue")
    assert page.locator("#queue tbody tr").count() >= 1
    shot(page, "07-counsellor-queue")
    page.click("#queue tbody tr:first-child a")
    page.wait_for_url(re.compile(r"/cases/\d+$"))
    case_url = page.url
    case_id = case_url.rsplit("/", 1)[1]
    expect(page.locator("#audit")).to_be_visible()
    # A hand-off without consent is refused beside the form, with what to do.
    page.select_option("#to", "referred_to_centre")
    page.fill("#note", "家长已电话沟通")
    page.click("#advance-form button[type=submit]")
    alert = page.locator("[role=alert]")
    expect(alert).to_be_visible()
    assert "同意" in alert.inner_text()
    # The state is named in words, not as stored.
    assert "已转介县中心" in alert.inner_text() and "referred_to_centre" not in alert.inner_text()
    shot(page, "08-counsellor-consent-refused")
    page.select_option("#to", "referred_to_centre")
    page.check("input[name=guardianInformed]")
    page.select_option("#consent", "given")
    page.click("#advance-form button[type=submit]")
    expect(page.locator("[role=status]")).to_be_visible()
    assert page.locator("#case-state").inner_text().strip() == "已转介至心理中心" or "中心" in page.locator("#case-state").inner_text()
    shot(page, "09-counsellor-advanced")

    centre = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN").new_page()
    login(centre, server, "centre")
    centre.goto(server + "/queue")
    assert centre.locator(f"#queue a[href='/cases/{case_id}']").count() == 1
    centre.goto(server + f"/cases/{case_id}")
    shot(centre, "10-centre-case")
    centre.context.close()

    # Another school's nurse or the hospital cannot open it.
    other = browser.new_context().new_page()
    login(other, server, "hospital")
    assert other.goto(case_url).status in (403, 404)
    other.context.close()


def test_administrator_adds_an_account_and_reads_the_school_list(server, page):
    login(page, server, "demo-admin")
    page.goto(server + "/accounts")
    page.fill("#login", "nurse-e2e")
    page.fill("#name", "测试校医")
    page.select_option("#role", "nurse")
    page.fill("#org", "SH-P02")
    page.fill("#password", "a long synthetic password")
    page.click("form:has(input[name=action][value=add]) button[type=submit]")
    assert "nurse-e2e" in page.locator("#accounts").inner_text()
    shot(page, "11-admin-accounts")
    page.goto(server + "/schools")
    assert "SH-P01" in page.content()
    assert page.goto(server + "/dashboard").status == 403


def test_nurse_sees_coverage_and_prints_a_class_of_notices_on_a4_in_chinese(server, page):
    """The screening loop in the browser: coverage with the mistyped ID's nearest, the notice board, one class's
    notices printed to PDF by Chromium — one A4 page a child, Chinese text in a CJK font, no other child's ID."""
    import pypdf
    login(page, server, "nurse-SH-P01")
    page.goto(server + "/coverage?year=2022")
    assert page.locator("#coverage tbody tr").count() > 0
    assert page.locator("#unmatched td.suggest").count() >= 1, "the demo's mistyped 学籍号 is offered its nearest"
    assert page.locator("#unmatched td.suggest").first.inner_text().startswith("G")
    shot(page, "nurse-coverage")
    page.goto(server + "/notices?year=2022")
    assert page.locator("#notice-board tbody tr").count() > 0
    shot(page, "nurse-notices")
    href = page.locator("#notice-board a[href^='/notices/print']").first.get_attribute("href")
    page.goto(server + href)
    sections = page.locator("section.notice")
    n = sections.count()
    assert n >= 1
    students = [sections.nth(i).get_attribute("data-student") for i in range(n)]
    for i in range(n):
        text = sections.nth(i).inner_text()
        assert students[i] in text and "告家长书" in text and "回执" in text
        assert not any(other in text for other in set(students) - {students[i]}), "a notice shows its own child only"
    page.emulate_media(media="print")
    page.screenshot(path=str(SHOTS / "nurse-notices-print.png"), full_page=False)
    pdf_path = SHOTS / "nurse-notices-class.pdf"
    page.pdf(path=str(pdf_path), format="A4", print_background=False, prefer_css_page_size=True)
    reader = pypdf.PdfReader(str(pdf_path))
    assert len(reader.pages) == n, f"{len(reader.pages)} pages for {n} notices"
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 2 and abs(float(box.height) - 841.9) < 2, "A4 portrait"
    first = reader.pages[0].extract_text()
    # The PDF's text layer maps some glyphs to CJK radical code points (长 → ⻓): check characters it keeps.
    assert "通知编号" in first and "告家" in first and "回执" in first and students[0] in first, first[:300]
    page.screenshot(path=str(SHOTS / "nurse-notices-print.png"), full_page=False)
    # A re-issue is marked 补发 on the print, and the board counts it.
    page.emulate_media(media="screen")
    class_href = href.replace("/notices/print", "/notices/class")
    page.goto(server + class_href)
    page.locator("#class-notices form[action$='/reissue'] input[name=reason]").first.fill("家长遗失")
    with page.expect_navigation():
        page.locator("#class-notices form[action$='/reissue'] button").first.click()
    assert page.locator("#class-notices").inner_text().count("补发") >= 1
    page.goto(server + href)
    assert "补发" in page.locator("section.notice").first.inner_text() or page.locator(".reissue").count() >= 1


def test_nurse_downloads_the_national_upload_file_in_gb18030(server, page):
    """The national upload on the nurse's page: who will be written and who cannot be, then the file itself, in the
    platform's encoding and line ends."""
    login(page, server, "nurse-SH-P01")
    page.goto(server + "/export/national?year=2023&template=2021")
    expect(page.locator("#export-summary")).to_contain_text("名学生")
    assert page.locator("#left-out tbody tr").count() >= 1, "the demo has students without a vision screening or refraction"
    shot(page, "nurse-national-export")
    with page.expect_download() as info:
        page.click("a.button.primary")
    download = info.value
    assert download.suggested_filename == "SH-P01-2023-national-2021.csv"
    data = pathlib.Path(download.path()).read_bytes()
    text = data.decode("gb18030")
    assert text.startswith("年级编号,班级编号,班级名称,学籍号,民族代码,姓名,性别,出生日期,家庭住址,身高")
    assert text.count("\r\n") == text.count("\n") and text.count("\n") > 10
    assert "左屈光轴位A" in text.splitlines()[0]
    page.click("a.lang")
    page.goto(server + "/export/national?year=2023&template=2014")
    expect(page.locator("#export-summary")).to_contain_text("student(s) will be written")
    shot(page, "nurse-national-export-en")


def test_administrator_backs_up_and_sees_the_last_good_backup(server, page):
    login(page, server, "demo-admin")
    page.goto(server + "/backups")
    page.click("form[action='/backups'] button[type=submit]")
    expect(page.locator("#last-good")).to_contain_text("最近一次有效备份")
    assert page.locator("#backups tbody tr").count() >= 1
    assert "有效" in page.locator("#backups tbody tr").first.inner_text()
    shot(page, "admin-backups")
    page.click("a.lang")
    page.goto(server + "/backups")
    expect(page.locator("#last-good")).to_contain_text("Last good backup")
    shot(page, "admin-backups-en")
