// Browser tests of the authfiles page (being written).
export default function authfiles() {}
