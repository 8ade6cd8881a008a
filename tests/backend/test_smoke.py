async def test_health_needs_no_token(client):
    response = await client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_world_builds_and_rep_sees_only_own_store(world, client):
    response = await client.get("/api/v1/stores", headers=world.own.auth("rep"))
    assert response.status_code == 200, response.text
    codes = [s["code"] for s in response.json()["items"]]
    assert codes == ["STORE-1"]
