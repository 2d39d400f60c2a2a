//! The text of account e-mails, Korean first and English below (one message serves both).

use docde_store::outbox::NewEmail;

pub fn verification_code(to: &str, code: &str) -> NewEmail {
    NewEmail {
        to: to.to_owned(),
        subject: "[DocDe] 이메일 인증 코드 / Verification code".into(),
        body: format!(
            "DocDe 가입을 완료하려면 아래 인증 코드를 입력하세요. 코드는 10분 동안 유효합니다.\n\n    {code}\n\n\
             본인이 요청하지 않았다면 이 메일을 무시하세요.\n\n---\n\
             To finish signing up for DocDe, enter this code. It is valid for 10 minutes.\n\n    {code}\n\n\
             If you did not ask for this, ignore this e-mail.\n"
        ),
    }
}

pub fn already_registered(to: &str) -> NewEmail {
    NewEmail {
        to: to.to_owned(),
        subject: "[DocDe] 가입 시도 알림 / Sign-up attempt".into(),
        body:
            "이 이메일 주소로 DocDe 가입이 다시 시도되었습니다. 이미 계정이 있으니 로그인하거나, \
               비밀번호를 잊었다면 비밀번호 재설정을 이용하세요.\n\n---\n\
               Someone tried to sign up for DocDe with this address, which already has an account. \
               Sign in, or reset your password if you have forgotten it.\n"
                .into(),
    }
}

pub fn reset_code(to: &str, code: &str) -> NewEmail {
    NewEmail {
        to: to.to_owned(),
        subject: "[DocDe] 비밀번호 재설정 코드 / Password reset code".into(),
        body: format!(
            "비밀번호를 재설정하려면 아래 코드를 입력하세요. 코드는 10분 동안 유효합니다.\n\n    {code}\n\n\
             재설정하면 모든 기기에서 로그아웃됩니다. 본인이 요청하지 않았다면 이 메일을 무시하세요.\n\n---\n\
             To reset your password, enter this code. It is valid for 10 minutes.\n\n    {code}\n\n\
             Resetting signs you out everywhere. If you did not ask for this, ignore this e-mail.\n"
        ),
    }
}

pub fn invitation(to: &str, hospital: &str, role: &str, code: &str) -> NewEmail {
    NewEmail {
        to: to.to_owned(),
        subject: format!("[DocDe] {hospital} 초대 / Invitation"),
        body: format!(
            "{hospital}에서 DocDe 계정({role})으로 초대했습니다. 아래 초대 코드와 새 비밀번호로 계정을 \
             활성화하세요(POST /api/v1/auth/invitations/accept). 코드는 72시간 동안 유효합니다.\n\n    {code}\n\n---\n\
             {hospital} has invited you to DocDe as {role}. Activate your account with this invitation code \
             and a password of your choice (POST /api/v1/auth/invitations/accept). The code is valid for 72 hours.\n\n    {code}\n"
        ),
    }
}
