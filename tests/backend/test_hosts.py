from backend.hosts import host_allowed, host_name


def test_host_name_drops_the_port():
    assert host_name("localhost:8000") == "localhost"
    assert host_name("Example.COM") == "example.com"
    assert host_name("[::1]:8000") == "[::1]"
    assert host_name("[::1]") == "[::1]"
    assert host_name("") == ""


def test_allowed_hosts():
    allowed = ["localhost", "*.fieldbook.example"]
    assert host_allowed("localhost", allowed)
    assert host_allowed("eu.fieldbook.example", allowed)
    assert not host_allowed("fieldbook.example.evil.com", allowed)
    assert not host_allowed("evilfieldbook.example", allowed)
    assert not host_allowed("", allowed)
    assert host_allowed("anything", ["*"])


async def test_a_request_for_another_host_is_a_problem(client):
    response = await client.get("/api/v1/health", headers={"Host": "evil.example:8000"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "request.bad_host"
    assert (await client.get("/api/v1/health", headers={"Host": "localhost:8000"})).status_code == 200
