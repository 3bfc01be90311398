package migration

// The kinds of platform, subject, identity, app, role and onboarding that
// snapshot records and batches name.
type (
	SourcePlatform string
	TargetPlatform string
	SubjectKind    string
	IdentityKind   string
	AppKind        string
	Role           string
	Onboarding     string
)

const (
	PlatformMicroapp         SourcePlatform = "microapp"
	PlatformDouyinOpenLegacy SourcePlatform = "douyin_open_legacy"
	PlatformThirdParty       SourcePlatform = "third_party"

	TargetDeveloper TargetPlatform = "developer"
	TargetPartner   TargetPlatform = "partner"

	SubjectCompany            SubjectKind = "company"
	SubjectIndividualBusiness SubjectKind = "individual_business"
	SubjectPerson             SubjectKind = "person"

	IdentityDeveloper             IdentityKind = "developer"
	IdentitySystemServiceProvider IdentityKind = "system_service_provider"
	IdentityServiceProvider       IdentityKind = "service_provider"

	AppMiniprogram AppKind = "miniprogram"
	AppMobile      AppKind = "mobile_app"
	AppWeb         AppKind = "web_app"

	RoleAdmin        Role = "admin"
	RoleCollaborator Role = "collaborator"

	OnboardingNone      Onboarding = "none"
	OnboardingApplied   Onboarding = "applied"
	OnboardingCompleted Onboarding = "completed"
)

// Valid says whether p is one of the old platforms: the one check the
// snapshot, the token, the execution input and the reconciliation share.
func (p SourcePlatform) Valid() bool {
	return p == PlatformMicroapp || p == PlatformDouyinOpenLegacy || p == PlatformThirdParty
}

// MiniProgramQuota is how many mini-programs one subject may hold on the
// developer platform (rule 12): 10 for a company, 5 otherwise.
func MiniProgramQuota(k SubjectKind) int {
	if k == SubjectCompany {
		return 10
	}
	return 5
}
