"""Who may join which room (PROTOCOL.md, "Events"): the authorization matrix, per room type.

`ana` owns the course, `lea` is enrolled as a learner, `cole` as an instructor, `bob` is not
enrolled, `sam` is staff. A room that does not exist is refused like a room one may not join.
"""

import pytest

from learning.models import Enrollment
from realtime.rooms import InvalidRoom, Room, parse_room

pytestmark = pytest.mark.django_db(transaction=True)

MISSING = 987654


@pytest.fixture
def people(user, other_user, staff_user, learner, course, make_user):
    cole = make_user("cole")
    Enrollment.objects.create(learner=cole, course=course, role="instructor")
    return {"ana": user, "bob": other_user, "sam": staff_user, "lea": learner, "cole": cole}


async def outcomes(events, people, room_of):
    """{person: "subscribed" or the error code} for the room `room_of(people)` names."""
    found = {}
    for name, person in people.items():
        client = await events(person)
        answer = await client.request(type="subscribe", room=room_of(people), request_id="s")
        assert answer["request_id"] == "s"
        found[name] = answer["type"] if answer["type"] == "subscribed" else answer["code"]
    return found


YES, NO = "subscribed", "forbidden"


async def test_a_user_room_admits_only_that_user(events, people):
    """user:{ana}: ana only; not staff, not her learners."""
    found = await outcomes(events, people, lambda p: f"user:{p['ana'].pk}")
    assert found == {"ana": YES, "bob": NO, "sam": NO, "lea": NO, "cole": NO}


async def test_an_instructor_room_admits_only_that_instructor(events, people):
    """instructor:{ana}: ana only; not staff, not a co-instructor."""
    found = await outcomes(events, people, lambda p: f"instructor:{p['ana'].pk}")
    assert found == {"ana": YES, "bob": NO, "sam": NO, "lea": NO, "cole": NO}


async def test_a_course_room_admits_owner_staff_and_enrolled_users(events, people, course):
    """course:{id}: the owner, staff, learners and instructors enrolled; not a stranger."""
    found = await outcomes(events, people, lambda p: f"course:{course.pk}")
    assert found == {"ana": YES, "bob": NO, "sam": YES, "lea": YES, "cole": YES}


async def test_a_lesson_room_admits_whoever_may_join_its_course(events, people, lesson):
    """lesson:{id}: the same people as its course's room."""
    found = await outcomes(events, people, lambda p: f"lesson:{lesson.pk}")
    assert found == {"ana": YES, "bob": NO, "sam": YES, "lea": YES, "cole": YES}


@pytest.mark.parametrize("kind", ["user", "course", "lesson", "instructor"])
async def test_a_room_that_does_not_exist_is_forbidden_to_everyone(events, people, kind):
    """A missing id is refused with `forbidden`, staff included: existence is not revealed."""
    found = await outcomes(events, people, lambda p: f"{kind}:{MISSING}")
    assert set(found.values()) == {NO}


async def test_missing_and_not_allowed_rooms_get_the_same_answer(events, other_user, course):
    """A stranger cannot tell a course they may not join from one that does not exist."""
    client = await events(other_user)
    refused = await client.error(type="subscribe", room=f"course:{course.pk}")
    missing = await client.error(type="subscribe", room=f"course:{MISSING}")
    assert refused == missing


async def test_an_enrollment_removed_closes_the_room_to_new_subscriptions(events, learner, course):
    """Joining is checked on every subscribe: unenrolled, the learner is refused."""
    await Enrollment.objects.filter(learner=learner).adelete()
    client = await events(learner)
    assert (await client.error(type="subscribe", room=f"course:{course.pk}"))["code"] == NO


@pytest.mark.parametrize(
    "room",
    ["course", "course:", "course:abc", "course:0", "course:-1", "course:1:2", "team:1",
     "Course:1", " course:1", "course:1 ", "course:01", "lesson:1.5", "user:1e3"],
)  # fmt: skip
async def test_unknown_room_syntax_is_invalid_message(events, user, room):
    """A name that is not `kind:id` is answered `invalid_message` naming the `room` field."""
    client = await events(user)
    error = await client.error(type="subscribe", room=room)
    assert error["code"] == "invalid_message"
    assert [d["field"] for d in error["details"]] == ["room"]


async def test_a_room_that_is_not_a_string_is_invalid_message(events, user):
    """`room` must be a string of at most 64 characters."""
    client = await events(user)
    for room in (12, None, ["course:1"], "x" * 65):
        error = await client.error(type="subscribe", room=room)
        assert error["code"] == "invalid_message", room


def test_room_names_map_to_channels_groups():
    """course:12 is the group room.course.12; the name round-trips."""
    room = parse_room("course:12")
    assert room == Room("course", 12) and room.group == "room.course.12"
    assert parse_room(room.name) == room
    with pytest.raises(InvalidRoom):
        parse_room("course:99999999999999999999")
