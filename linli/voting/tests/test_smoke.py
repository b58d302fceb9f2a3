from linli.voting.selectors import ballot_result, tally_verify
from linli.voting.services import ballot_close, vote_cast
from linli.voting.tests.conftest import expire


def test_cast_close_result(world, ballot):
    r = vote_cast(actor=world.users["resident"], ballot=ballot, choices=[0])
    assert r.receipt
    vote_cast(actor=world.users["neighbour"], ballot=ballot, choices=[1])
    expire(ballot)
    ballot = ballot_close(actor=world.users["secretary"], ballot=ballot)
    res = ballot_result(viewer=world.users["resident"], ballot=ballot)
    print(res.explanation)
    assert res.participants == 2
    v = tally_verify(viewer=world.users["secretary"], ballot=ballot)
    assert v.ok, v.differences
